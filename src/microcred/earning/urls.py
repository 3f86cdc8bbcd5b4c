from django.urls import include, path

from . import views

app_name = "earning"
urlpatterns = [
    path("", include("microcred.earning.urls_supports")),
    path("coaching/", include("microcred.earning.urls_coaching")),
    path("start/<slug:slug>/", views.start, name="start"),
    path("preapprovals/", views.preapprovals, name="preapprovals"),
    path("preapprovals/<int:preapproval_pk>/", views.decide, name="decide"),
    path("invitations/<int:member_pk>/", views.respond, name="respond"),
    path("<uuid:attempt_uuid>/", views.attempt_page, name="attempt"),
    path("<uuid:attempt_uuid>/parts/<int:requirement_pk>/", views.save_text, name="save_text"),
    path("<uuid:attempt_uuid>/parts/<int:requirement_pk>/files/", views.attach, name="attach"),
    path(
        "<uuid:attempt_uuid>/files/<int:artifact_pk>/remove/", views.remove_artifact, name="remove"
    ),
    path("<uuid:attempt_uuid>/files/<int:artifact_pk>/notes/", views.add_note, name="add_note"),
    path("<uuid:attempt_uuid>/notes/<int:annotation_pk>/", views.edit_note, name="edit_note"),
    path(
        "<uuid:attempt_uuid>/notes/<int:annotation_pk>/delete/",
        views.delete_note,
        name="delete_note",
    ),
    path("<uuid:attempt_uuid>/submit/", views.submit, name="submit"),
    path("<uuid:attempt_uuid>/submissions/<int:number>/withdraw/", views.withdraw, name="withdraw"),
    path("<uuid:attempt_uuid>/team/", views.create_team, name="create_team"),
    path("<uuid:attempt_uuid>/team/invite/", views.invite, name="invite"),
]
