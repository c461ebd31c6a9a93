// Runs @digitalcredentials/verifier-core (the verifier behind the Learner Credential Wallet and
// VerifierPlus) on credentials the app issued, as an outside verifier would, and writes what it
// said. Started by tests/certification/test_outside_verifiers.py.
//
//   node verify.mjs <input.json> <output.json>
//
// input: {port, upstream, key, cert, schemas: {url: file}, credentials: {name: credential}}
//
// did:web resolution is the library's own: it fetches https://localhost:<port>/.well-known/did.json
// (and the status list at its https address), with Node's TLS checks on. The only local parts:
// - an HTTPS front on <port>, with a certificate the test made and that Node trusts through
//   NODE_EXTRA_CA_CERTS, passing every request on to the test's live server (<upstream>);
// - 1EdTech's JSON schema addresses answered from the copies in tests/certification/schemas/
//   (the network here is closed; verifier-core fetches them for its schema check).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const [inputPath, outputPath] = process.argv.slice(2);
const input = JSON.parse(fs.readFileSync(inputPath, 'utf8'));
const upstream = new URL(input.upstream);

const front = https.createServer(
  {key: fs.readFileSync(input.key), cert: fs.readFileSync(input.cert)},
  (request, response) => {
    const forward = http.request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: {...request.headers, 'x-forwarded-proto': 'https'}
      },
      answer => {
        response.writeHead(answer.statusCode, answer.headers);
        answer.pipe(response);
      }
    );
    forward.on('error', error => {
      response.writeHead(502);
      response.end(String(error));
    });
    request.pipe(forward);
  }
);
await new Promise(resolve => front.listen(input.port, resolve));

const networkFetch = globalThis.fetch;
globalThis.fetch = async (resource, options) => {
  const url = typeof resource === 'string' ? resource : resource.url ?? String(resource);
  if(input.schemas?.[url]) {
    return new Response(fs.readFileSync(input.schemas[url]), {
      headers: {'content-type': 'application/json'}
    });
  }
  return networkFetch(resource, options);
};

const {verifyCredential} = await import('@digitalcredentials/verifier-core');

// What the verifier said, without the echoed credential and stack traces.
function said(result) {
  const {credential, ...rest} = result;
  for(const error of rest.errors ?? []) {
    delete error.stackTrace;
    delete error.stack;
  }
  return rest;
}

const results = {};
for(const [name, credential] of Object.entries(input.credentials)) {
  try {
    results[name] = said(await verifyCredential({credential, knownDIDRegistries: []}));
  } catch(error) {
    results[name] = {thrown: String(error)};
  }
}
front.close();
fs.writeFileSync(outputPath, JSON.stringify(results, null, 2));
process.exit(0);
