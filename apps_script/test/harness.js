'use strict';
// Test harness for Code.gs: runs the real script in node:vm with hand-made fakes of the Apps
// Script services it uses, and starts the real Python sync service on 127.0.0.1.
//
// - UrlFetchApp.fetch is synchronous in Apps Script, so the fake does real HTTP in a child
//   node process (execFileSync). A string payload is sent as Latin-1: Apps Script does not
//   document the charset it uses, and with Latin-1 any non-ASCII byte would break the signature.
// - Utilities.computeHmacSha256Signature returns Java-style signed bytes (-128..127), as the
//   real one does.
// This file only defines functions (node --test runs every .js file in this folder).

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const crypto = require('node:crypto');
const { execFileSync, spawn } = require('node:child_process');

const CODE_PATH = path.join(__dirname, '..', 'Code.gs');
const REPO_ROOT = path.join(__dirname, '..', '..');

// One HTTP request, run in a child process: stdin {url, method, headers, body(base64)} -> stdout {code, body}.
const FETCH_CHILD = `
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const req = JSON.parse(input);
  try {
    const res = await fetch(req.url, {
      method: req.method, headers: req.headers, redirect: 'manual',
      body: req.body === null ? undefined : Buffer.from(req.body, 'base64'),
    });
    const body = Buffer.from(await res.arrayBuffer()).toString('utf8');
    process.stdout.write(JSON.stringify({ code: res.status, body }));
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String((e.cause && (e.cause.code || e.cause.message)) || e.message) }));
  }
});`;

function javaBytes(buffer) {
  return Array.from(buffer, (b) => (b > 127 ? b - 256 : b));
}

// Utilities.formatDate's SimpleDateFormat letters used by Code.gs: yyyy MMM MM dd d HH mm
function formatDate(date, timeZone, pattern) {
  const parts = {};
  new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(date).forEach((p) => { parts[p.type] = p.value; });
  const month = new Intl.DateTimeFormat('en-US', { timeZone, month: 'short' }).format(date);
  return pattern.replace(/yyyy|MMM|MM|dd|d|HH|mm/g, (token) => ({
    yyyy: parts.year, MMM: month, MM: parts.month, dd: parts.day, d: String(Number(parts.day)),
    HH: parts.hour, mm: parts.minute,
  })[token]);
}

/** Load Code.gs with fakes. Returns {script, record}: script is the vm context (its functions),
 *  record what the fakes saw (menus, toasts, alerts, requests with their answers). */
function loadScript({ properties = {}, spreadsheetId, sheetName = 'Sheet1', email = '', timeZone = 'Asia/Jerusalem',
                      locale = 'en_US' }) {
  const record = { menus: [], toasts: [], alerts: [], requests: [] };
  const ui = {
    ButtonSet: { OK: 'OK', OK_CANCEL: 'OK_CANCEL' },
    createMenu(caption) {
      const menu = { caption, items: [], added: false };
      record.menus.push(menu);
      const builder = {
        addItem(label, functionName) { menu.items.push([label, functionName]); return builder; },
        addSeparator() { return builder; },
        addToUi() { menu.added = true; },
      };
      return builder;
    },
    alert(title, prompt, buttons) {
      record.alerts.push({ title, prompt, buttons });
      return 'OK';
    },
  };
  const spreadsheet = {
    getId: () => spreadsheetId,
    getActiveSheet: () => ({ getName: () => sheetName }),
    getSpreadsheetTimeZone: () => timeZone,
    getSpreadsheetLocale: () => locale,
    toast(msg, title, timeoutSeconds) { record.toasts.push({ msg, title, timeoutSeconds }); },
  };
  const fakes = {
    SpreadsheetApp: { getActiveSpreadsheet: () => spreadsheet, getUi: () => ui },
    PropertiesService: {
      getScriptProperties: () => ({
        getProperty: (key) => (Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : null),
      }),
    },
    Session: { getActiveUser: () => ({ getEmail: () => email }) },
    Utilities: {
      Charset: { UTF_8: 'UTF-8', US_ASCII: 'US-ASCII' },
      computeHmacSha256Signature(value, key, charset) {
        if (charset !== undefined && charset !== 'UTF-8') throw new Error('fake supports UTF-8 only');
        return javaBytes(crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(Buffer.from(value, 'utf8')).digest());
      },
      sleep(ms) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); },
      getUuid: () => crypto.randomUUID(),
      formatDate,
    },
    UrlFetchApp: {
      fetch(url, options = {}) {
        const method = (options.method || 'get').toUpperCase();
        const headers = { ...(options.headers || {}) };
        let body = null;
        if (options.payload !== undefined) {
          if (typeof options.payload !== 'string') throw new Error('the fake sends string payloads only');
          headers['Content-Type'] = options.contentType || 'application/x-www-form-urlencoded';
          body = Buffer.from(options.payload, 'latin1').toString('base64');
        }
        const out = execFileSync(process.execPath, ['-e', FETCH_CHILD], {
          input: JSON.stringify({ url, method, headers, body }), encoding: 'utf8', timeout: 60000,
        });
        const answer = JSON.parse(out);
        record.requests.push({ url, method, headers, payload: options.payload, options, answer });
        if (answer.error) throw new Error('Address unavailable: ' + url + ' (' + answer.error + ')');
        if (answer.code >= 400 && !options.muteHttpExceptions) {
          throw new Error('Request failed for ' + url + ' returned code ' + answer.code);
        }
        return { getResponseCode: () => answer.code, getContentText: () => answer.body };
      },
    },
  };
  const script = vm.createContext(fakes);
  vm.runInContext(fs.readFileSync(CODE_PATH, 'utf8'), script, { filename: 'Code.gs' });
  return { script, record };
}

/** Start apps_script/test/service_for_tests.py; resolves to {url, spreadsheet_id, secret, stderr(), stop()}. */
function startService({ latencyMs = 0 } = {}) {
  const python = process.env.PYTHON || 'python3';
  const child = spawn(python, [path.join(__dirname, 'service_for_tests.py'), '--latency-ms', String(latencyMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONPATH: [REPO_ROOT, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('service did not start:\n' + stderr)); }, 60000);
    exited.then((e) => { clearTimeout(timer); reject(new Error(`service exited (${e.code}/${e.signal}) before it listened:\n${stderr}`)); });
    child.stdout.on('data', (d) => {
      stdout += d;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      const info = JSON.parse(stdout.slice(0, newline));
      resolve({
        ...info,
        stderr: () => stderr,
        stop: () => { child.kill('SIGTERM'); return exited; },
      });
    });
  });
}

/** A request signed by the test itself (node:crypto, independent of Code.gs). */
async function signedRequest(service, method, pathAndQuery, bodyObject) {
  const t = Math.floor(Date.now() / 1000);
  const body = bodyObject === undefined ? undefined : JSON.stringify(bodyObject);
  const signed = `${t}.${body === undefined ? pathAndQuery : body}`;
  const v1 = crypto.createHmac('sha256', service.secret).update(signed, 'utf8').digest('hex');
  const headers = { 'X-Signature': `t=${t},v1=${v1}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(service.url + pathAndQuery, { method, headers, body });
  return { code: res.status, data: await res.json() };
}

module.exports = { loadScript, startService, signedRequest, formatDate };
