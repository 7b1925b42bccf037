#!/usr/bin/env node
// nagare's Node.js runtime: the Lambda Runtime API loop for `nodejsNN.x` functions.
//
// No npm dependencies. It resolves `_HANDLER` ("file.export", the file found
// under LAMBDA_TASK_ROOT as .js, .mjs or .cjs; ES modules loaded with import(),
// CommonJS with require()), reports failures through /init/error as
// Runtime.ImportModuleError / Runtime.HandlerNotFound, then loops: GET
// /invocation/next, call the handler (async, or callback style), POST the
// result to /response or {"errorType","errorMessage","trace"} (the Node
// runtime's shape) to /error. console.* lines carry the timestamp, request id
// and level, as AWS's Node runtime prints them.
'use strict';

const http = require('http');
const path = require('path');
const fs = require('fs');
const util = require('util');
const { pathToFileURL } = require('url');

const [HOST, PORT] = (() => {
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  const i = api.lastIndexOf(':');
  return [api.slice(0, i), Number(api.slice(i + 1))];
})();
const BASE = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let currentRequestId;

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: PORT, method, path: BASE + p, agent,
      headers: Object.assign({}, headers || {}, body ? { 'Content-Length': Buffer.byteLength(body) } : {}) },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

function patchConsole() {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [name, level] of Object.entries(levels)) {
    console[name] = (...args) => {
      const msg = util.format(...args).replace(/\n/g, '\r');
      process.stdout.write(`${new Date().toISOString()}\t${currentRequestId || 'undefined'}\t${level}\t${msg}\n`);
    };
  }
}

function errorDoc(err) {
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message,
      trace: String(err.stack || '').split('\n') };
  }
  return { errorType: typeof err === 'object' && err ? 'object' : typeof err,
    errorMessage: typeof err === 'string' ? err : JSON.stringify(err), trace: [] };
}

async function postError(p, doc) {
  await request('POST', p, JSON.stringify(doc),
    { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': doc.errorType });
}

async function initError(doc) {
  console.error(`${doc.errorType}: ${doc.errorMessage}`);
  await postError('/init/error', doc);
  process.exit(1);
}

function findModule(root, name) {
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const f = path.resolve(root, name + ext);
    if (fs.existsSync(f)) return f;
  }
  return null;
}

async function loadHandler() {
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handler = process.env._HANDLER || '';
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) {
    return initError({ errorType: 'Runtime.MalformedHandlerName', errorMessage: `Bad handler ${handler}`, trace: [] });
  }
  const modName = handler.slice(0, dot);
  const fnPath = handler.slice(dot + 1).split('.');
  const file = findModule(root, modName);
  let mod;
  try {
    if (!file) throw Object.assign(new Error(`Cannot find module '${modName}'`), { code: 'MODULE_NOT_FOUND' });
    if (file.endsWith('.mjs')) {
      mod = await import(pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e.code !== 'ERR_REQUIRE_ESM') throw e;
        mod = await import(pathToFileURL(file).href);
      }
    }
  } catch (e) {
    if (e instanceof SyntaxError) {
      return initError({ errorType: 'Runtime.UserCodeSyntaxError', errorMessage: `${e.name}: ${e.message}`, trace: String(e.stack).split('\n') });
    }
    const type = e.code === 'MODULE_NOT_FOUND' ? 'Runtime.ImportModuleError' : (e.name || 'Error');
    return initError({ errorType: type, errorMessage: `Error: ${e.message}`, trace: String(e.stack || '').split('\n') });
  }
  let fn = mod;
  for (const k of fnPath) fn = fn == null ? undefined : fn[k];
  if (typeof fn !== 'function' && mod && mod.default && typeof mod.default === 'object') {
    fn = mod.default;
    for (const k of fnPath) fn = fn == null ? undefined : fn[k];
  }
  if (typeof fn !== 'function') {
    return initError({ errorType: 'Runtime.HandlerNotFound', errorMessage: `${handler} is undefined or not exported`, trace: [] });
  }
  return fn;
}

function makeContext(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const cc = headers['lambda-runtime-client-context'];
  const ci = headers['lambda-runtime-cognito-identity'];
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    clientContext: cc ? JSON.parse(cc) : undefined,
    identity: ci ? JSON.parse(ci) : undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

// Runs the handler: its promise if it returns one, else the callback it calls.
function runHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err); else resolve(result);
    };
    context.done = done;
    context.succeed = (r) => done(null, r);
    context.fail = (e) => done(e || 'handled');
    let ret;
    try {
      ret = fn(event, context, done);
    } catch (e) {
      return done(e);
    }
    if (ret && typeof ret.then === 'function') ret.then((r) => done(null, r), (e) => done(e === undefined ? new Error('undefined') : e));
    else if (fn.length < 3) done(null, ret);
  });
}

async function main() {
  patchConsole();
  const fn = await loadHandler();
  for (;;) {
    const next = await request('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = id;
    if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    try {
      const event = next.body ? JSON.parse(next.body) : undefined;
      const result = await runHandler(fn, event, makeContext(next.headers));
      const body = JSON.stringify(result === undefined ? null : result);
      await request('POST', `/invocation/${id}/response`, body, { 'Content-Type': 'application/json' });
    } catch (e) {
      const doc = errorDoc(e);
      console.error(`Invoke Error \t${JSON.stringify(doc)}`);
      await postError(`/invocation/${id}/error`, doc);
    }
  }
}

async function fatal(type, err) {
  const doc = errorDoc(err);
  doc.errorType = type === 'Runtime.UnhandledPromiseRejection' ? type : doc.errorType;
  console.error(`${type} \t${JSON.stringify(doc)}`);
  try {
    if (currentRequestId) await postError(`/invocation/${currentRequestId}/error`, doc);
  } finally {
    process.exit(129);
  }
}

process.on('uncaughtException', (e) => fatal('Uncaught Exception', e));
process.on('unhandledRejection', (e) => fatal('Runtime.UnhandledPromiseRejection', e));
main().catch((e) => fatal('Runtime.Unknown', e));
