// Checks VC-JWTs the app issued with JOSE tooling written elsewhere, as an outside verifier
// would: the issuer's did:web is resolved by the Decentralized Identity Foundation's
// web-did-resolver (over HTTPS, Node's TLS checks on; the test's certificate is trusted through
// NODE_EXTRA_CA_CERTS), the verification method the JWT's `kid` names is taken from the DID
// document (it must be in `assertionMethod`), and panva's `jose` checks the ES256 signature,
// `typ`, `iss`, `nbf` and `exp`. Started by tests/certification/test_outside_verifiers_more.py.
//
//   node verify_jwt.mjs <input.json> <output.json>
//
// input: {tokens: {name: compact JWT}}; output: {name: {resolved, verified, header, claims}
// or {resolved, error: {code, message}}}.
import fs from 'node:fs';
import {Resolver} from 'did-resolver';
import {getResolver} from 'web-did-resolver';
import {decodeJwt, decodeProtectedHeader, importJWK, jwtVerify} from 'jose';

const [inputPath, outputPath] = process.argv.slice(2);
const input = JSON.parse(fs.readFileSync(inputPath, 'utf8'));
const resolver = new Resolver(getResolver());

async function check(token) {
  // The issuer is read from the token only to know which DID to resolve; every claim is
  // checked again by jwtVerify against the signed content.
  const {iss} = decodeJwt(token);
  const {kid} = decodeProtectedHeader(token);
  const resolution = await resolver.resolve(iss);
  const document = resolution.didDocument;
  if(!document) {
    return {resolved: false, error: {code: 'DID_NOT_RESOLVED', message: JSON.stringify(resolution.didResolutionMetadata)}};
  }
  const id = reference => (typeof reference === 'string' ? reference : reference?.id);
  const method = (document.verificationMethod ?? []).find(entry => entry.id === kid);
  const asserts = (document.assertionMethod ?? []).map(id).includes(kid);
  if(!method || !asserts || method.controller !== document.id || document.id !== iss) {
    return {resolved: true, error: {code: 'KID_NOT_AN_ASSERTION_METHOD_OF_ISS', message: String(kid)}};
  }
  const key = await importJWK(method.publicKeyJwk, 'ES256');
  try {
    const {payload, protectedHeader} = await jwtVerify(token, key, {
      algorithms: ['ES256'],
      typ: 'JWT',
      issuer: document.id
    });
    return {resolved: true, verified: true, header: protectedHeader, claims: Object.keys(payload).sort()};
  } catch(error) {
    return {resolved: true, error: {code: error.code ?? error.name, message: error.message}};
  }
}

const results = {};
for(const [name, token] of Object.entries(input.tokens)) {
  try {
    results[name] = await check(token);
  } catch(error) {
    results[name] = {thrown: String(error)};
  }
}
fs.writeFileSync(outputPath, JSON.stringify(results, null, 2));
