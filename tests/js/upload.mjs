#!/usr/bin/env node
// Upload one file to Roughy with tus-js-client, the way the upload guide tells browser/Node
// users to: to an existing TUS upload URL, `new Upload(file, { uploadUrl, headers, chunkSize })`,
// or with TUS creation, `new Upload(file, { endpoint, metadata, headers })`.
// Driven by tests/test_clients.py; prints exactly one JSON line on stdout.
//
//   node upload.mjs --file PATH (--url UPLOAD_URL | --endpoint URL) --key API_KEY_OR_TOKEN
//                   [--chunk-size N|Infinity] [--source stream|buffer]
//                   [--abort-after N] [--retry-delays none|default|0,500,...]
//                   [--metadata JSON] [--origin ORIGIN] [--data-during-creation]
//
// --endpoint: tus-js-client creates the upload (POST), with --metadata (a JSON object of
// strings) as Upload-Metadata; --data-during-creation sends the first chunk in that POST.
// --origin: every request carries this Origin header, as a page on that origin would send it
// (Node does no CORS itself: the tests check the preflight and the CORS answers on their own).
// --key may be an upload token (ut_...) as well as an API key.
//
// Every option may also come from the environment: ROUGHY_FILE, ROUGHY_UPLOAD_URL,
// ROUGHY_API_KEY, ROUGHY_CHUNK_SIZE, ROUGHY_SOURCE, ROUGHY_ABORT_AFTER, ROUGHY_RETRY_DELAYS.
//
// --source stream (default) hands tus-js-client an fs.ReadStream, which it streams from disk;
// --source buffer hands it the whole file as a Buffer. Either way each PATCH has Content-Length.
// --chunk-size defaults to tus-js-client's own default, Infinity: the whole file in one PATCH.
// --abort-after N: once N bytes have been sent, call upload.abort() (no termination), then
// start a NEW Upload on the same uploadUrl, which HEADs for the offset and finishes the file.
// --retry-delays defaults to "none" so a server error is reported rather than retried away;
// "default" keeps tus-js-client's own [0, 1000, 3000, 5000].
//
// Output: {success, bytesUploaded, bytesTotal, error, aborted, abortedAt, resumedFrom, requests}
// where requests lists every request/response pair tus-js-client saw (phase 1 = first Upload,
// phase 2 = the resuming Upload).

import fs from "node:fs";
import { parseArgs } from "node:util";
import { Upload } from "tus-js-client";

const { values: argv } = parseArgs({
  options: {
    file: { type: "string" },
    url: { type: "string" },
    key: { type: "string" },
    "chunk-size": { type: "string" },
    source: { type: "string" },
    "abort-after": { type: "string" },
    "retry-delays": { type: "string" },
    endpoint: { type: "string" },
    metadata: { type: "string" },
    origin: { type: "string" },
    "data-during-creation": { type: "boolean" },
  },
  strict: true,
});

function option(name, envName, fallback) {
  const value = argv[name] ?? process.env[envName];
  return value === undefined || value === "" ? fallback : value;
}

function emit(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const file = option("file", "ROUGHY_FILE");
const uploadUrl = option("url", "ROUGHY_UPLOAD_URL");
const apiKey = option("key", "ROUGHY_API_KEY");
const chunkSize = Number(option("chunk-size", "ROUGHY_CHUNK_SIZE", "Infinity"));
const sourceKind = option("source", "ROUGHY_SOURCE", "stream");
const abortAfterRaw = option("abort-after", "ROUGHY_ABORT_AFTER");
const abortAfter = abortAfterRaw === undefined ? null : Number(abortAfterRaw);
const retryRaw = option("retry-delays", "ROUGHY_RETRY_DELAYS", "none");
const endpoint = argv.endpoint;
const metadata = argv.metadata === undefined ? {} : JSON.parse(argv.metadata);
const origin = argv.origin;

function usage(message) {
  emit({ success: false, error: `usage: ${message}`, requests: [] });
  process.exit(2);
}

if (!file || !(uploadUrl || endpoint) || !apiKey) {
  usage("--file, --url or --endpoint, and --key are required");
}
if (!(chunkSize > 0)) usage("--chunk-size must be a positive number or Infinity");
if (!["stream", "buffer"].includes(sourceKind)) usage("--source must be stream or buffer");
if (abortAfter !== null && !(abortAfter > 0)) usage("--abort-after must be a positive number");

let retryDelays;
if (retryRaw === "none") retryDelays = null;
else if (retryRaw === "default") retryDelays = undefined; // tus-js-client's built-in default
else retryDelays = retryRaw.split(",").map(Number);

let bytesTotal;
try {
  bytesTotal = fs.statSync(file).size;
} catch (err) {
  usage(`cannot read --file: ${err.message}`);
}
const requests = [];

function openSource() {
  return sourceKind === "buffer" ? fs.readFileSync(file) : fs.createReadStream(file);
}

// One tus-js-client Upload on the shared uploadUrl. Resolves (never rejects) with its outcome.
let createdUrl = null;

function runUpload(phase, abortAt) {
  return new Promise((resolve) => {
    let accepted = 0;
    let aborting = false;
    const headers = { Authorization: `Bearer ${apiKey}` };
    if (origin) headers.Origin = origin;
    const target = createdUrl ?? uploadUrl;
    const options = {
      ...(target ? { uploadUrl: target } : { endpoint, metadata }),
      uploadDataDuringCreation: Boolean(argv["data-during-creation"]),
      headers,
      chunkSize,
      storeFingerprintForResuming: false,
      onUploadUrlAvailable() {
        createdUrl = upload.url;
      },
      onAfterResponse(req, res) {
        requests.push({
          phase,
          method: req.getMethod(),
          status: res.getStatus(),
          requestOffset: req.getHeader("Upload-Offset") ?? null,
          responseOffset: res.getHeader("Upload-Offset") ?? null,
          location: res.getHeader("Location") ?? null,
          allowOrigin: res.getHeader("Access-Control-Allow-Origin") ?? null,
          exposeHeaders: res.getHeader("Access-Control-Expose-Headers") ?? null,
          uploadLength: res.getHeader("Upload-Length") ?? null,
          tusResumable: res.getHeader("Tus-Resumable") ?? null,
        });
      },
      onChunkComplete(_chunk, bytesAccepted) {
        accepted = bytesAccepted;
      },
      onProgress(bytesSent) {
        if (abortAt === null || aborting || bytesSent < abortAt) return;
        aborting = true;
        upload
          .abort(false)
          .then(() => resolve({ outcome: "aborted", bytesSent, accepted }))
          .catch((err) => resolve({ outcome: "error", error: String(err), accepted }));
      },
      onSuccess() {
        if (!aborting) resolve({ outcome: "success", accepted });
      },
      onError(err) {
        if (!aborting) resolve({ outcome: "error", error: String(err), accepted });
      },
    };
    if (retryDelays !== undefined) options.retryDelays = retryDelays;
    const upload = new Upload(openSource(), options);
    upload.start();
  });
}

const result = {
  success: false,
  bytesUploaded: 0,
  bytesTotal,
  error: null,
  aborted: false,
  abortedAt: null,
  resumedFrom: null,
  uploadUrl: null,
  requests,
};

try {
  let outcome = await runUpload(1, abortAfter);
  if (outcome.outcome === "aborted") {
    result.aborted = true;
    result.abortedAt = outcome.bytesSent;
    outcome = await runUpload(2, null);
    const head = requests.find((r) => r.phase === 2 && r.method === "HEAD");
    result.resumedFrom = head ? Number(head.responseOffset) : null;
  }
  result.uploadUrl = createdUrl ?? uploadUrl;
  result.success = outcome.outcome === "success";
  result.bytesUploaded = outcome.accepted;
  result.error = outcome.error ?? null;
} catch (err) {
  result.error = String(err?.stack ?? err);
}
emit(result);
process.exit(result.success ? 0 : 1);
