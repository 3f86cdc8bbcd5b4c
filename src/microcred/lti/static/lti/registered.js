// LTI Dynamic Registration: tell the platform's window that registration is done, so it
// closes this page (the platform checks the message's origin itself).
(function () {
  "use strict";
  var target = window.opener || window.parent;
  if (target && target !== window) {
    target.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  }
})();
