'use strict';
// The real Code.gs, run in node:vm against the real Python sync service (which syncs the demo
// workbook to the inwise sandbox): what the menu sends, and what the user sees.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const { loadScript, startService, signedRequest } = require('./harness.js');

const HEBREW_TAB = 'אנשי קשר 📇';
const HOLD_A_PORT = "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', 0)); "
  + 'print(s.getsockname()[1], flush=True); sys.stdin.read()';
let service;

before(async () => {
  service = await startService();
});

async function setInwiseLatency(ms) {
  const res = await fetch(service.sandbox + '/_sandbox/faults', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ latency_ms: ms }),
  });
  assert.equal(res.status, 200);
}

after(async () => {
  const exit = await service.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, service.stderr());
  assert.ok(!service.stderr().includes(service.secret), 'the secret must never be logged');
});

function menu(overrides = {}) {
  const loaded = loadScript({
    properties: { INWISE_SERVICE_URL: service.url + '/', INWISE_WEBHOOK_SECRET: service.secret },
    spreadsheetId: service.spreadsheet_id,
    sheetName: HEBREW_TAB,
    email: 'dana@example.com',
    ...overrides,
  });
  loaded.script.POLL_INTERVAL_MS = 100; // a top-level var of Code.gs
  return loaded;
}

function lines(text) {
  return text.split('\n');
}

test('onOpen adds the inwise menu with its three items', () => {
  const { script, record } = menu();
  script.onOpen();
  assert.equal(record.menus.length, 1);
  const m = record.menus[0];
  assert.equal(m.caption, 'inwise');
  assert.ok(m.added);
  assert.deepEqual(JSON.parse(JSON.stringify(m.items)), [
    ['Sync now', 'syncNow'], ['Preview (dry run)', 'previewSync'], ['Last sync result', 'showLastSyncResult'],
  ]);
  for (const [, fn] of m.items) assert.equal(typeof script[fn], 'function', fn);
  assert.equal(record.requests.length, 0, 'onOpen must not call the service (a simple trigger cannot)');
});

test('Preview: a signed ASCII request with a Hebrew tab name is accepted, and shows what would be sent', async () => {
  const { script, record } = menu();
  script.previewSync();
  const post = record.requests[0];
  assert.equal(post.method, 'POST');
  assert.equal(post.url, service.url + '/v1/sync');
  assert.match(post.headers['X-Signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.match(post.payload, /^[\x20-\x7e]*$/, 'the body must be pure ASCII');
  assert.ok(post.payload.includes('\\u05d0\\u05e0\\u05e9\\u05d9 \\u05e7\\u05e9\\u05e8 \\ud83d\\udcc7'));
  const sent = JSON.parse(post.payload);
  assert.deepEqual({ ...sent, nonce: typeof sent.nonce }, {
    spreadsheet_id: service.spreadsheet_id, worksheet: HEBREW_TAB, dry_run: true,
    nonce: 'string', requested_by: 'dana@example.com',
  });
  assert.equal(post.answer.code, 202, post.answer.body);
  assert.deepEqual(record.toasts, [{ msg: 'Preview started…', title: 'inwise', timeoutSeconds: 10 }]);
  const polls = record.requests.slice(1);
  assert.ok(polls.length >= 1);
  for (const get of polls) {
    assert.equal(get.method, 'GET');
    assert.equal(get.answer.code, 200);
    assert.match(get.headers['X-Signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
  }
  assert.equal(record.alerts.length, 1);
  const shown = lines(record.alerts[0].prompt);
  assert.equal(shown[0], 'Preview (nothing was sent): 24 contacts would be sent to inwise; 6 rows need attention.');
  assert.equal(shown[2], 'First 5 as they would be sent:');
  assert.equal(shown[3], 'row 2: dana.cohen@example.co.il · +972541111111 · First name = דנה · Last name = כהן · '
    + 'City = תל אביב · Birthday = 12/06/1980 · external id = M-1001');
  assert.ok(shown.includes('Rows that need attention (6):'));
  assert.ok(shown.includes('row 12: ✗ duplicate of row 3 (same email) - not sent'));
  // the service decoded the escaped name exactly
  const runId = post.answer.body.match(/"run_id":"([^"]+)"/)[1];  // "<run number>.<spreadsheet id>"
  const status = await signedRequest(service, 'GET', `/v1/runs/${runId}`);
  assert.equal(status.data.worksheet, HEBREW_TAB);
  assert.equal(status.data.requested_by, 'dana@example.com');
});

test('Last sync result before any sync says so', () => {
  const { script, record } = menu();
  script.showLastSyncResult();
  assert.equal(record.requests[0].url, `${service.url}/v1/runs/latest?spreadsheet=${service.spreadsheet_id}`);
  assert.equal(record.requests[0].answer.code, 404);
  assert.equal(record.alerts[0].prompt, 'No sync of this spreadsheet has run yet. Use inwise > Sync now to start one.');
});

test('Sync now: a toast at once, then the summary with the rows that need attention', () => {
  const { script, record } = menu();
  script.syncNow();
  assert.deepEqual(record.toasts, [{ msg: 'Sync started…', title: 'inwise', timeoutSeconds: 10 }]);
  assert.equal(record.alerts.length, 1);
  assert.equal(record.alerts[0].title, 'inwise');
  assert.deepEqual(lines(record.alerts[0].prompt).slice(0, 4), [
    'Sync finished.',
    'Created: 21 · Updated: 2 · Unchanged: 0 · Conflicts: 1 · Invalid: 3 · No email or mobile: 1 · Duplicates: 2',
    '',
    'Rows that need attention (7):',
  ]);
  const shown = record.alerts[0].prompt;
  assert.ok(shown.includes('row 10: ✗ invalid email "rachel@@example.com": more than one @ (column \'Email\')'));
  assert.ok(shown.includes('row 13: ✗ conflict: email → #439130002, mobile → #439130003'));
});

test('Last sync result shows the last sync, its time and who started it', () => {
  const { script, record } = menu();
  script.showLastSyncResult();
  const shown = lines(record.alerts[0].prompt);
  assert.match(shown[0], /^Last sync: \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d \(from the menu by dana@example\.com\)$/);
  assert.equal(shown[2], 'Sync finished.');
  assert.equal(shown[3], 'Created: 21 · Updated: 2 · Unchanged: 0 · Conflicts: 1 · Invalid: 3 · No email or mobile: 1 · Duplicates: 2');
});

test('A Hebrew mapping: the summary in Hebrew (the service says the language)', () => {
  const { script } = menu();
  const run = { state: 'done', language: 'he', counts: { created: 3, updated: 1, invalid: 1 }, problems_total: 1,
                problems: [{ row: 4, outcome: 'invalid', detail: 'invalid email "x@": nothing after the @' }] };
  assert.deepEqual(lines(script.runText_(run)), [
    'הסנכרון הסתיים.',
    'נוצרו: 3 · עודכנו: 1 · ללא שינוי: 0 · התנגשויות: 0 · לא תקינים: 1',
    '',
    'שורות שדורשות טיפול (1):',
    'שורה 4: ✗ invalid email "x@": nothing after the @',
  ]);
  const preview = { state: 'done', dry_run: true, language: 'he', would_send: 2, problems_total: 0 };
  assert.equal(lines(script.runText_(preview))[0], 'הרצת ניסיון (דבר לא נשלח): 2 אנשי קשר יישלחו ל-inwise.');
  assert.equal(lines(script.runText_({ ...preview, language: 'en' }))[0],
               'Preview (nothing was sent): 2 contacts would be sent to inwise.');
});

test('A click while a sync runs waits for that sync instead of starting another', async (t) => {
  await setInwiseLatency(800); // every inwise call takes 0.8 s: the sync is surely still running at the click
  t.after(() => setInwiseLatency(0));
  const started = await signedRequest(service, 'POST', '/v1/sync',
    { spreadsheet_id: service.spreadsheet_id, worksheet: 'Contacts', dry_run: false, nonce: 'from-the-test' });
  assert.equal(started.code, 202);
  const { script, record } = menu({ email: '' });
  script.syncNow();
  const post = record.requests[0];
  assert.equal(post.answer.code, 409);
  assert.ok(!JSON.parse(post.payload).requested_by, 'a blank Session email is left out');
  assert.equal(JSON.parse(post.answer.body).run_id, started.data.run_id);
  assert.deepEqual(record.toasts.map((t) => t.msg),
    ['A sync of this spreadsheet is already running: its result will show here when it ends.']);
  assert.ok(record.requests.slice(1).every((r) => r.url.endsWith(`/v1/runs/${started.data.run_id}`)));
  assert.equal(lines(record.alerts[0].prompt)[0], 'Sync finished.');
  // the second sync of the same rows: the contacts created before are now updated
  assert.match(record.alerts[0].prompt, /Created: 0 · Updated: 0 · Unchanged: 23 · Conflicts: 1 · Invalid: 3 · No email or mobile: 1/);
});

test('A wrong secret is refused, and the message says what to check', () => {
  const { script, record } = menu({
    properties: { INWISE_SERVICE_URL: service.url, INWISE_WEBHOOK_SECRET: 'not-the-secret-of-this-sheet' },
  });
  script.syncNow();
  script.showLastSyncResult();
  assert.deepEqual(record.requests.map((r) => r.answer.code), [401, 401]);
  assert.deepEqual(record.toasts, []);
  for (const a of record.alerts) {
    assert.equal(a.prompt, 'The sync service did not accept this spreadsheet\'s request. Check that the script '
      + 'property INWISE_WEBHOOK_SECRET holds the secret your admin gave for this spreadsheet, and that the service '
      + `is set up for it (spreadsheet id ${service.spreadsheet_id}).`);
  }
});

test('A spreadsheet the service does not serve gets the same answer', () => {
  const { script, record } = menu({ spreadsheetId: 'some-other-spreadsheet' });
  script.previewSync();
  assert.equal(record.requests[0].answer.code, 401);
  assert.match(record.alerts[0].prompt, /did not accept this spreadsheet's request/);
});

test('Missing script properties: a setup message and no request', () => {
  const { script, record } = menu({ properties: { INWISE_SERVICE_URL: service.url } });
  script.syncNow();
  assert.equal(record.requests.length, 0);
  assert.match(record.alerts[0].prompt, /^The inwise menu is not set up yet\..*INWISE_WEBHOOK_SECRET/);
});

test('A plain http:// address is refused before anything is sent', () => {
  const { script, record } = menu({
    properties: { INWISE_SERVICE_URL: 'http://connector.example.org', INWISE_WEBHOOK_SECRET: service.secret },
  });
  script.syncNow();
  assert.equal(record.requests.length, 0);
  assert.equal(record.alerts[0].prompt, 'INWISE_SERVICE_URL must start with https:// so that nobody can read or change what is sent.');
});

test('A service that does not answer is reported with its address', async () => {
  // a port held for the whole test, bound but never listening (node cannot bind without
  // listening, so a small Python process holds it): nothing else can take it, connecting is refused
  const holder = spawn(process.env.PYTHON || 'python3', ['-c', HOLD_A_PORT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    holder.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    holder.once('exit', (code) => reject(new Error(`the port holder exited (${code})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const { script, record } = menu({ properties: { INWISE_SERVICE_URL: url, INWISE_WEBHOOK_SECRET: service.secret } });
  try {
    script.syncNow();
  } finally {
    holder.stdin.end();  // it exits when its stdin closes
  }
  assert.deepEqual(record.toasts, []);
  assert.match(record.alerts[0].prompt, new RegExp(`^Cannot reach the sync service at ${url} \\(.*\\)\\. Check the script property INWISE_SERVICE_URL`));
});

test('Last sync result names the trigger: schedule, command line, menu', () => {
  const { script } = menu();
  const ss = script.SpreadsheetApp.getActiveSpreadsheet();
  const at = '2026-12-06T05:00:00Z';
  const heading = (run) => script.lastRunHeading_({ finished_at: at, ...run }, ss).replace(/^Last sync: [^(]+/, '');
  assert.equal(heading({ trigger: 'schedule' }), '(on schedule)');
  assert.equal(heading({ trigger: 'cli' }), '(from the command line)');
  assert.equal(heading({ trigger: 'menu', requested_by: 'dana@example.com' }), '(from the menu by dana@example.com)');
  assert.equal(heading({ trigger: 'menu' }), '(from the menu)');
  assert.equal(heading({ trigger: 'api' }), '(started by api)');
});

test('A sync run from the command line is shown as such, not as a click', () => {
  const python = process.env.PYTHON || 'python3';
  const path = require('node:path');
  execFileSync(python, ['-m', 'sheets_connector', 'sync', '--config', service.mapping], {
    env: { ...process.env, INWISE_API_KEY: service.api_key,
      PYTHONPATH: [path.resolve(__dirname, '..', '..'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const { script, record } = menu();
  script.showLastSyncResult();
  const shown = lines(record.alerts[0].prompt);
  // and who ran it: the account and machine the command-line run recorded
  assert.match(shown[0], /^Last sync: \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d \(from the command line by \S+ on \S+\)$/);
});

// --- a Hebrew sheet: every notice in Hebrew -------------------------------------------------------

function hebrewMenu(overrides = {}) {
  return menu({
    properties: { INWISE_SERVICE_URL: service.url, INWISE_WEBHOOK_SECRET: service.hebrew.secret },
    spreadsheetId: service.hebrew.spreadsheet_id, locale: 'iw_IL', ...overrides,
  });
}

test('A Hebrew spreadsheet: the menu labels follow its locale', () => {
  const { script, record } = hebrewMenu();
  script.onOpen();
  assert.deepEqual(JSON.parse(JSON.stringify(record.menus[0].items)), [
    ['סנכרון עכשיו', 'syncNow'], ['תצוגה מקדימה (הרצת ניסיון)', 'previewSync'],
    ['תוצאת הסנכרון האחרון', 'showLastSyncResult'],
  ]);
  const english = menu({ locale: 'en_GB' });
  english.script.onOpen();
  assert.equal(english.record.menus[0].items[0][0], 'Sync now');
});

test('A Hebrew mapping: no run yet, started, finished and the rows\' reasons, all in Hebrew', () => {
  // an English-locale spreadsheet with a Hebrew mapping: the service's word (the mapping) wins
  const { script, record } = hebrewMenu({ locale: 'en_US' });
  script.showLastSyncResult();
  assert.equal(record.requests[0].answer.code, 404);
  assert.equal(record.alerts[0].prompt, 'עדיין לא רץ סנכרון של הגיליון הזה. בחרו inwise > סנכרון עכשיו כדי להתחיל.');
  script.syncNow();
  assert.deepEqual(record.toasts, [{ msg: 'הסנכרון התחיל…', title: 'inwise', timeoutSeconds: 10 }]);
  const shown = lines(record.alerts[1].prompt);
  // the same sandbox as the English sheet's tests: its contacts may exist already (created or updated)
  assert.equal(shown[0], 'הסנכרון הסתיים.');
  assert.match(shown[1], /^נוצרו: \d+ · עודכנו: \d+ · ללא שינוי: 0 · התנגשויות: 1 · לא תקינים: 3 · אין אימייל או נייד: 1 · כפולים: 2$/);
  assert.deepEqual(shown.slice(2, 4), ['', 'שורות שדורשות טיפול (7):']);
  const text = record.alerts[1].prompt;
  assert.ok(text.includes('שורה 10: ✗ כתובת האימייל "\u200erachel@@example.com\u200e" לא תקינה: יש יותר מ-@ אחד '
                          + '(עמודה "\u200eEmail\u200e") - תקנו את התא וסנכרנו שוב'), text);
  assert.ok(text.includes('שורה 13: ✗ התנגשות: האימייל שייך לאיש קשר #439130002 והנייד לאיש קשר #439130003'), text);
  assert.ok(!/invalid|conflict|duplicate/.test(text), text);
  script.showLastSyncResult();
  assert.match(lines(record.alerts[2].prompt)[0],
               /^סנכרון אחרון: \d{1,2} ב[א-ת]+׳? \d{4} \d\d:\d\d \(מהתפריט על ידי dana@example\.com\)$/);
});

test('A Hebrew spreadsheet: setup, address and refusal notices in Hebrew', () => {
  let { script, record } = hebrewMenu({ properties: { INWISE_SERVICE_URL: service.url } });
  script.syncNow();
  assert.equal(record.requests.length, 0);
  assert.match(record.alerts[0].prompt, /^תפריט inwise עדיין לא מוגדר\..*INWISE_WEBHOOK_SECRET/);
  ({ script, record } = hebrewMenu({
    properties: { INWISE_SERVICE_URL: 'http://connector.example.org', INWISE_WEBHOOK_SECRET: 'x' },
  }));
  script.syncNow();
  assert.equal(record.alerts[0].prompt,
               'הכתובת ב-INWISE_SERVICE_URL חייבת להתחיל ב-https:// כדי שאף אחד לא יוכל לקרוא או לשנות את מה שנשלח.');
  ({ script, record } = hebrewMenu({
    properties: { INWISE_SERVICE_URL: service.url, INWISE_WEBHOOK_SECRET: 'wrong' },
  }));
  script.previewSync();
  assert.equal(record.requests[0].answer.code, 401);
  assert.match(record.alerts[0].prompt, /^שירות הסנכרון לא קיבל את הבקשה של הגיליון הזה\. .*INWISE_WEBHOOK_SECRET/);
});

test('Every notice has a Hebrew and an English text with the same placeholders', () => {
  const { script } = menu();
  const en = script.TEXTS.en;
  const he = script.TEXTS.he;
  assert.deepEqual(Object.keys(he).sort(), Object.keys(en).sort());
  const names = (t) => JSON.stringify((String(t).match(/\{\w+\}/g) || []).sort());
  for (const key of Object.keys(en)) assert.equal(names(he[key]), names(en[key]), key);
});
