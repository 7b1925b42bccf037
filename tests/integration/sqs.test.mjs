// SQS integration tests for nagare with the AWS SDK for JavaScript v3.
//
// @aws-sdk/client-sqs speaks AWS JSON 1.0 and verifies MD5OfMessageBody and
// MD5OfMessageAttributes on SendMessage, SendMessageBatch and ReceiveMessage:
// a wrong digest from the server makes the call throw, so every send and
// receive below is also a checksum test.  Expectations follow AWS's documented
// behaviour.  Run with `node --test` in tests/integration, endpoint from
// NAGARE_ENDPOINT (default http://127.0.0.1:4566).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueUrlCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SendMessageCommand,
  SendMessageBatchCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  DeleteMessageBatchCommand,
  ChangeMessageVisibilityCommand,
  ListQueuesCommand,
  DeleteQueueCommand,
  PurgeQueueCommand,
  TagQueueCommand,
  UntagQueueCommand,
  ListQueueTagsCommand,
  StartMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
} from "@aws-sdk/client-sqs";

const ENDPOINT = (process.env.NAGARE_ENDPOINT || "http://127.0.0.1:4566").replace(/\/$/, "");
const RUN = randomBytes(4).toString("hex");
let seq = 0;

function client(opts = {}) {
  return new SQSClient({
    endpoint: ENDPOINT,
    region: opts.region || "us-east-1",
    credentials: { accessKeyId: opts.key || "test", secretAccessKey: opts.secret || "test" },
    maxAttempts: 1,
  });
}

const sqs = client();
const md5 = (s) => createHash("md5").update(s).digest("hex");
const unique = (tag) => `js-${tag}-${RUN}-${++seq}`;

async function newQueue(t, tag, Attributes) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique(tag), Attributes }));
  t.after(() => sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {}));
  return QueueUrl;
}

async function attrs(QueueUrl, names = ["All"]) {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: names }));
  return r.Attributes;
}

// Expects the promise to fail with this modelled error name and HTTP status.
async function rejectsWith(promise, name, status) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, status);
    return true;
  });
}

test("create queue is idempotent, get url, list by prefix", async (t) => {
  const QueueName = unique("create");
  const a = { VisibilityTimeout: "45" };
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName, Attributes: a }));
  t.after(() => sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {}));
  assert.equal(QueueUrl, `${ENDPOINT}/000000000000/${QueueName}`);
  const again = await sqs.send(new CreateQueueCommand({ QueueName, Attributes: a }));
  assert.equal(again.QueueUrl, QueueUrl);
  assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl, QueueUrl);
  const list = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: QueueName }));
  assert.deepEqual(list.QueueUrls, [QueueUrl]);
  await rejectsWith(
    sqs.send(new CreateQueueCommand({ QueueName, Attributes: { VisibilityTimeout: "46" } })),
    "QueueNameExists",
    400,
  );
});

test("missing queue is QueueDoesNotExist", async () => {
  await rejectsWith(
    sqs.send(new GetQueueUrlCommand({ QueueName: unique("missing") })),
    "QueueDoesNotExist",
    400,
  );
});

test("send and receive with attributes: SDK-verified MD5s", async (t) => {
  const QueueUrl = await newQueue(t, "md5");
  const MessageAttributes = {
    text: { DataType: "String", StringValue: "héllo ✓" },
    num: { DataType: "Number", StringValue: "3.14" },
    bin: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 254, 255]) },
    custom: { DataType: "String.json", StringValue: '{"a":1}' },
  };
  const body = `körper ${RUN} 😀`;
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageAttributes }));
  assert.equal(sent.MD5OfMessageBody, md5(body));
  assert.match(sent.MD5OfMessageAttributes, /^[0-9a-f]{32}$/);
  const r = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      WaitTimeSeconds: 2,
      MessageAttributeNames: ["All"],
      MessageSystemAttributeNames: ["All"],
    }),
  );
  assert.equal(r.Messages.length, 1);
  const m = r.Messages[0];
  assert.equal(m.Body, body);
  assert.equal(m.MessageId, sent.MessageId);
  assert.equal(m.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);
  assert.deepEqual(Array.from(m.MessageAttributes.bin.BinaryValue), [0, 1, 254, 255]);
  assert.equal(m.MessageAttributes.num.StringValue, "3.14");
  assert.equal(m.MessageAttributes.custom.DataType, "String.json");
  assert.equal(m.Attributes.ApproximateReceiveCount, "1");
  assert.ok(Number(m.Attributes.SentTimestamp) > Date.now() - 60000);
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
  const a = await attrs(QueueUrl, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]);
  assert.deepEqual(a, { ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0" });
});

test("send batch: per-entry MD5s checked, failures reported per entry", async (t) => {
  const QueueUrl = await newQueue(t, "batch");
  const attr = { k: { DataType: "String", StringValue: "v" } };
  const r = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl,
      Entries: [
        { Id: "a", MessageBody: "first", MessageAttributes: attr },
        { Id: "b", MessageBody: "second" },
        { Id: "bad", MessageBody: "bad \u0001" },
      ],
    }),
  );
  assert.deepEqual(r.Successful.map((e) => e.Id).sort(), ["a", "b"]);
  assert.equal(r.Failed.length, 1);
  assert.equal(r.Failed[0].Id, "bad");
  assert.equal(r.Failed[0].SenderFault, true);
  const got = [];
  for (let i = 0; i < 5 && got.length < 2; i++) {
    const rr = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ["All"] }),
    );
    got.push(...(rr.Messages || []));
  }
  assert.deepEqual(got.map((m) => m.Body).sort(), ["first", "second"]);
  const del = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl,
      Entries: got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
    }),
  );
  assert.equal(del.Successful.length, 2);
  assert.equal((del.Failed || []).length, 0);
  await rejectsWith(
    sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: "x" })),
      }),
    ),
    "TooManyEntriesInBatchRequest",
    400,
  );
  await rejectsWith(
    sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: "x", MessageBody: "1" },
          { Id: "x", MessageBody: "2" },
        ],
      }),
    ),
    "BatchEntryIdsNotDistinct",
    400,
  );
});

test("visibility: change to 0 makes it visible again with a new handle", async (t) => {
  const QueueUrl = await newQueue(t, "vis");
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "v" }));
  const first = (await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, VisibilityTimeout: 60 })))
    .Messages[0];
  const hidden = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
  assert.equal((hidden.Messages || []).length, 0);
  await sqs.send(
    new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0 }),
  );
  const second = (
    await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MessageSystemAttributeNames: ["ApproximateReceiveCount"] }),
    )
  ).Messages[0];
  assert.equal(second.MessageId, first.MessageId);
  assert.notEqual(second.ReceiptHandle, first.ReceiptHandle);
  assert.equal(second.Attributes.ApproximateReceiveCount, "2");
  await rejectsWith(
    sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: "garbage" })),
    "ReceiptHandleIsInvalid",
    400,
  );
});

test("invalid message contents and attribute values", async (t) => {
  const QueueUrl = await newQueue(t, "inval");
  await rejectsWith(
    sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "nul \u0000 here" })),
    "InvalidMessageContents",
    400,
  );
  await rejectsWith(
    sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: "43201" } })),
    "InvalidAttributeValue",
    400,
  );
  await rejectsWith(
    sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["Bogus"] })),
    "InvalidAttributeName",
    400,
  );
});

test("attributes, tags and purge", async (t) => {
  const QueueUrl = await newQueue(t, "misc");
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { DelaySeconds: "5", VisibilityTimeout: "10" } }));
  const a = await attrs(QueueUrl);
  assert.equal(a.DelaySeconds, "5");
  assert.equal(a.VisibilityTimeout, "10");
  assert.match(a.QueueArn, /^arn:aws:sqs:us-east-1:000000000000:js-misc-/);
  await sqs.send(new TagQueueCommand({ QueueUrl, Tags: { a: "1", b: "2" } }));
  await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ["a"] }));
  assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags, { b: "2" });
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { DelaySeconds: "0" } }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "gone soon" }));
  await sqs.send(new PurgeQueueCommand({ QueueUrl }));
  const after = await attrs(QueueUrl, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]);
  assert.deepEqual(after, { ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesDelayed: "0" });
  await rejectsWith(sqs.send(new PurgeQueueCommand({ QueueUrl })), "PurgeQueueInProgress", 403);
});

test("long poll wakes up when a message is sent", async (t) => {
  const QueueUrl = await newQueue(t, "poll");
  const start = Date.now();
  const pending = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
  setTimeout(() => client().send(new SendMessageCommand({ QueueUrl, MessageBody: "wake" })), 500);
  const r = await pending;
  const took = (Date.now() - start) / 1000;
  assert.deepEqual((r.Messages || []).map((m) => m.Body), ["wake"]);
  assert.ok(took < 3, `long poll took ${took}s`);
});

test("regions are isolated", async (t) => {
  const QueueName = unique("region");
  const QueueUrl = await (async () => {
    const r = await sqs.send(new CreateQueueCommand({ QueueName }));
    t.after(() => sqs.send(new DeleteQueueCommand({ QueueUrl: r.QueueUrl })).catch(() => {}));
    return r.QueueUrl;
  })();
  assert.ok(QueueUrl);
  const eu = client({ region: "eu-west-1" });
  await rejectsWith(eu.send(new GetQueueUrlCommand({ QueueName })), "QueueDoesNotExist", 400);
});

test("bad credentials are refused with 403", async () => {
  await assert.rejects(client({ secret: "wrong" }).send(new ListQueuesCommand({})), (e) => {
    assert.equal(e.$metadata?.httpStatusCode, 403);
    assert.match(`${e.name} ${e.Code || ""} ${e.message}`, /SignatureDoesNotMatch|signature/i);
    return true;
  });
  await assert.rejects(client({ key: "AKIANOSUCHKEY0000000" }).send(new ListQueuesCommand({})), (e) => {
    assert.equal(e.$metadata?.httpStatusCode, 403);
    assert.match(`${e.name} ${e.Code || ""} ${e.message}`, /InvalidClientTokenId|security token/i);
    return true;
  });
});

test("FIFO: digests of a duplicate are of what was sent, groups stay in order", async (t) => {
  const QueueName = unique("fifo") + ".fifo";
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName, Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" } }),
  );
  t.after(() => sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {}));
  const MessageAttributes = { k: { DataType: "String", StringValue: "v" } };
  // The SDK checks MD5OfMessageBody/MD5OfMessageAttributes of every answer.
  const first = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "a", MessageGroupId: "g", MessageAttributes }));
  const dup = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "a", MessageGroupId: "g" }));
  assert.equal(dup.MessageId, first.MessageId);
  assert.equal(dup.SequenceNumber, first.SequenceNumber);
  const batch = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl,
      Entries: ["b", "c", "d"].map((b, i) => ({ Id: `e${i}`, MessageBody: b, MessageGroupId: i < 2 ? "g" : "h" })),
    }),
  );
  assert.equal(batch.Successful.length, 3);
  const r = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }),
  );
  assert.deepEqual(r.Messages.map((m) => m.Body), ["a", "b", "c", "d"]);
  assert.equal(r.Messages[0].Attributes.SequenceNumber, first.SequenceNumber);
  assert.equal(r.Messages[3].Attributes.MessageGroupId, "h");
});

test("dead-letter queue and a move task back to the source", async (t) => {
  const dlq = await newQueue(t, "dlq");
  const DlqArn = (await attrs(dlq, ["QueueArn"])).QueueArn;
  const RedrivePolicy = JSON.stringify({ deadLetterTargetArn: DlqArn, maxReceiveCount: 1 });
  const src = await newQueue(t, "src", { RedrivePolicy });
  await sqs.send(new SendMessageCommand({ QueueUrl: src, MessageBody: "retry me" }));
  await sqs.send(new ReceiveMessageCommand({ QueueUrl: src, VisibilityTimeout: 0 }));
  const none = await sqs.send(new ReceiveMessageCommand({ QueueUrl: src }));
  assert.equal((none.Messages || []).length, 0);
  const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: DlqArn }));
  assert.ok(TaskHandle);
  let status = "";
  for (let i = 0; i < 50 && status !== "COMPLETED"; i++) {
    const l = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: DlqArn }));
    status = l.Results[0].Status;
    if (status !== "COMPLETED") await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(status, "COMPLETED");
  const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: src, WaitTimeSeconds: 1 }));
  assert.deepEqual((back.Messages || []).map((m) => m.Body), ["retry me"]);
});
