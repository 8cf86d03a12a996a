// The AWS SDK for JavaScript v3 as a stranger to the sandbox: every client is built with its DEFAULT
// settings (`new Client({})`), so bedrock-runtime uses its default request handler, which speaks HTTP/2
// (h2c with prior knowledge on an http:// endpoint). The endpoint, region and credentials come from the
// environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), as a user sets them.
//
//   node stranger.mjs ACTION 'JSON ARGUMENTS'
//
// Prints one JSON object on stdout: what the SDK returned, or {"ok": false, "name", "message", ...} for
// the error it raised. Exit code 0 either way; a crash of this script exits non-zero.
import {
  BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, CountTokensCommand,
  InvokeModelWithResponseStreamCommand,
} from "@aws-sdk/client-bedrock-runtime";
import { BedrockClient, CreateModelInvocationJobCommand, GetModelInvocationJobCommand } from "@aws-sdk/client-bedrock";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

const [action, argJson] = process.argv.slice(2);
const arg = JSON.parse(argJson ?? "{}");

function failure(e) {
  return { ok: false, name: e.name, message: e.message, status: e.$metadata?.httpStatusCode,
           attempts: e.$metadata?.attempts, fault: e.$fault };
}

function messages(text) {
  return [{ role: "user", content: [{ text }] }];
}

// Converse once per tier asked (null: no serviceTier member at all).
async function converse({ modelId, tiers, text = "Hello from the JavaScript SDK", maxTokens = 32 }) {
  const client = new BedrockRuntimeClient({});
  const results = [];
  try {
    for (const tier of tiers) {
      try {
        const r = await client.send(new ConverseCommand({
          modelId, messages: messages(text), inferenceConfig: { maxTokens },
          ...(tier ? { serviceTier: { type: tier } } : {}),
        }));
        results.push({ ok: true, tier, servedTier: r.serviceTier?.type ?? null, text: r.output.message.content[0].text,
                       stopReason: r.stopReason, usage: r.usage, attempts: r.$metadata.attempts });
      } catch (e) {
        results.push({ tier, ...failure(e) });
      }
    }
  } finally {
    client.destroy();
  }
  return { ok: true, results };
}

// ConverseStream: every event in order, the text they carry and the metadata event.
async function stream({ modelId, tier, text = "Stream to the JavaScript SDK", maxTokens = 40 }) {
  const client = new BedrockRuntimeClient({});
  try {
    const r = await client.send(new ConverseStreamCommand({
      modelId, messages: messages(text), inferenceConfig: { maxTokens },
      ...(tier ? { serviceTier: { type: tier } } : {}),
    }));
    const events = [];
    let streamed = "";
    let metadata = null;
    let stopReason = null;
    for await (const event of r.stream) {
      const kind = Object.keys(event).find((k) => event[k] !== undefined);
      events.push(kind);
      if (event.contentBlockDelta) streamed += event.contentBlockDelta.delta.text;
      if (event.messageStop) stopReason = event.messageStop.stopReason;
      if (event.metadata) metadata = event.metadata;
    }
    return { ok: true, events, text: streamed, stopReason, metadata, status: r.$metadata.httpStatusCode,
             attempts: r.$metadata.attempts };
  } catch (e) {
    return failure(e);
  } finally {
    client.destroy();
  }
}

// InvokeModelWithResponseStream with a native body: the decoded chunks.
async function invokeStream({ modelId, body, tier }) {
  const client = new BedrockRuntimeClient({});
  try {
    const r = await client.send(new InvokeModelWithResponseStreamCommand({
      modelId, body: JSON.stringify(body), contentType: "application/json", accept: "application/json",
      ...(tier ? { serviceTier: tier } : {}),
    }));
    const chunks = [];
    for await (const event of r.body) {
      if (event.chunk) chunks.push(JSON.parse(new TextDecoder().decode(event.chunk.bytes)));
    }
    return { ok: true, chunks, servedTier: r.serviceTier ?? null, attempts: r.$metadata.attempts };
  } catch (e) {
    return failure(e);
  } finally {
    client.destroy();
  }
}

async function countTokens({ modelId, text = "Count these tokens" }) {
  const client = new BedrockRuntimeClient({});
  try {
    const r = await client.send(new CountTokensCommand({ modelId, input: { converse: { messages: messages(text) } } }));
    return { ok: true, inputTokens: r.inputTokens };
  } catch (e) {
    return failure(e);
  } finally {
    client.destroy();
  }
}

const TERMINAL = new Set(["Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"]);

// A batch job as a user runs one: upload the JSONL with S3 PutObject, CreateModelInvocationJob, poll
// GetModelInvocationJob until it ends, then list the output prefix and download the .jsonl.out and the
// manifest with GetObject (HeadObject first, as download tools do).
async function batch({ bucket, key, lines, modelId, roleArn, outputPrefix, timeoutS = 60 }) {
  const s3 = new S3Client({});
  const bedrock = new BedrockClient({});
  const step = { name: "PutObject" };
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: lines.join("\n") + "\n" }));
    step.name = "CreateModelInvocationJob";
    const created = await bedrock.send(new CreateModelInvocationJobCommand({
      jobName: `js-${Date.now()}`, roleArn, modelId,
      inputDataConfig: { s3InputDataConfig: { s3Uri: `s3://${bucket}/${key}`, s3InputFormat: "JSONL" } },
      outputDataConfig: { s3OutputDataConfig: { s3Uri: `s3://${bucket}/${outputPrefix}` } },
    }));
    step.name = "GetModelInvocationJob";
    const deadline = Date.now() + timeoutS * 1000;
    let job;
    do {
      job = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: created.jobArn }));
      if (TERMINAL.has(job.status)) break;
      await new Promise((ok) => setTimeout(ok, 200));
    } while (Date.now() < deadline);
    step.name = "ListObjectsV2";
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: outputPrefix }));
    const files = {};
    for (const object of listed.Contents ?? []) {
      step.name = `HeadObject ${object.Key}`;
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.Key }));
      step.name = `GetObject ${object.Key}`;
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      const text = await got.Body.transformToString();
      step.name = `GetObject (range) ${object.Key}`;
      const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key, Range: "bytes=0-9" }));
      files[object.Key] = { text, headContentLength: head.ContentLength ?? null,
                            getContentLength: got.ContentLength ?? null,
                            rangeContentLength: ranged.ContentLength ?? null,
                            rangeText: await ranged.Body.transformToString(), contentRange: ranged.ContentRange ?? null };
    }
    return { ok: true, jobArn: created.jobArn, status: job.status, message: job.message ?? null,
             totalRecordCount: job.totalRecordCount ?? null, successRecordCount: job.successRecordCount ?? null,
             files };
  } catch (e) {
    return { step: step.name, ...failure(e) };
  } finally {
    s3.destroy();
    bedrock.destroy();
  }
}

// Which request handler each default client uses (bedrock-runtime's is the HTTP/2 one).
async function handlers() {
  const out = {};
  for (const [name, Client] of [["bedrock-runtime", BedrockRuntimeClient], ["bedrock", BedrockClient], ["s3", S3Client]]) {
    const client = new Client({});
    out[name] = client.config.requestHandler?.constructor?.name ?? null;
    client.destroy();
  }
  return { ok: true, handlers: out };
}

const actions = { converse, stream, invokeStream, countTokens, batch, handlers };
if (!(action in actions)) {
  console.error(`unknown action ${action}; one of ${Object.keys(actions).join(", ")}`);
  process.exit(2);
}
console.log(JSON.stringify(await actions[action](arg)));
