/**
 * @OnlyCurrentDoc
 *
 * The "inwise" menu of this spreadsheet: Sync now, Preview (dry run), Last sync result.
 *
 * The menu asks the sheets-connector sync service (run by your admin) to sync this
 * spreadsheet with inwise, then shows what happened. The inwise API key and the Google
 * credentials stay on the service; this script only holds the service's address and this
 * spreadsheet's webhook secret, in two script properties (Extensions > Apps Script >
 * Project Settings > Script properties):
 *   INWISE_SERVICE_URL     e.g. https://connector.example.org  (from your admin)
 *   INWISE_WEBHOOK_SECRET  this spreadsheet's secret            (from your admin)
 * Anyone who can edit the spreadsheet can read them: share edit access accordingly.
 *
 * Every request is signed: header X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>, over
 * "<t>.<body>" for a POST and "<t>.<path>?<query>" for a GET. The JSON body is pure ASCII
 * (every character above U+007F written as \uXXXX), so the bytes signed are the bytes sent
 * whatever character set UrlFetchApp uses.
 *
 * Scopes (appsscript.json): external_request to call the service, spreadsheets.currentonly
 * for this spreadsheet's id and toasts, container.ui for the menu and messages, and
 * userinfo.email so the run history can say who clicked (informational only; remove the
 * scope and the history simply shows no name).
 */

var SERVICE_URL_PROPERTY = 'INWISE_SERVICE_URL';
var SECRET_PROPERTY = 'INWISE_WEBHOOK_SECRET';
var TITLE = 'inwise';
var POLL_INTERVAL_MS = 3000;
var POLL_BUDGET_MS = 4.5 * 60 * 1000; // a script may run 6 minutes: stop waiting well before
var ROWS_SHOWN = 10;
var PREVIEW_SHOWN = 5;
var COUNTS_SHOWN = ['created', 'updated', 'unchanged', 'conflict', 'invalid', 'missing', 'duplicate', 'error',
                    'held', 'no_consent'];
// Every text the menu shows, in the sheet's language: the mapping's (the service says which in each
// answer: language), or, before the service has answered, the spreadsheet's locale (File > Settings).
var TEXTS = {
  en: {
    menuSync: 'Sync now', menuPreview: 'Preview (dry run)', menuLast: 'Last sync result',
    previewStarted: 'Preview started…', syncStarted: 'Sync started…',
    busy: 'A sync of this spreadsheet is already running: its result will show here when it ends.',
    stillRunning: 'The sync is still running. Use inwise > Last sync result in a few minutes to see how it went.',
    noRunYet: 'No sync of this spreadsheet has run yet. Use inwise > Sync now to start one.',
    notSetUp: 'The inwise menu is not set up yet. In Extensions > Apps Script > Project Settings > Script properties, ' +
              'add {urlProperty} (the sync service\'s address) and {secretProperty} (this spreadsheet\'s secret), ' +
              'both from your admin, then try again.',
    needsHttps: '{urlProperty} must start with https:// so that nobody can read or change what is sent.',
    unreachable: 'Cannot reach the sync service at {url} ({error}). Check the script property {urlProperty}, or ask ' +
                 'your admin whether the service is running.',
    refused: 'The sync service did not accept this spreadsheet\'s request. Check that the script property ' +
             '{secretProperty} holds the secret your admin gave for this spreadsheet, and that the service is set up ' +
             'for it (spreadsheet id {id}).',
    unknownRequest: 'The sync service does not know this request. Check the script property {urlProperty} (it ' +
                    'should be the service\'s address, nothing after it).',
    restarting: 'The sync service is restarting. Try again in a minute.',
    redirects: 'The address in {urlProperty} redirects elsewhere. Put the final https:// address there.',
    httpError: 'The sync service answered with an error (HTTP {code}). Try again later, or tell your admin.',
    created: 'Created', updated: 'Updated', unchanged: 'Unchanged', conflict: 'Conflicts', invalid: 'Invalid',
    missing: 'No email or mobile', duplicate: 'Duplicates', error: 'Errors', held: 'Held back',
    no_consent: 'Not sent: no consent',
    running: 'A sync is running now', sentOf: ' ({done} of {total} rows sent)', failedPreview: 'The preview',
    failedSync: 'The sync', failed: ' did not complete.', stopped: 'The sync was stopped before the end. ',
    finished: 'Sync finished.', note: 'Note: ',
    preview: 'Preview (nothing was sent): {contacts} would be sent to inwise', previewAttention: '; {rows} need attention.',
    firstAsSent: 'First {n} as they would be sent:', attention: 'Rows that need attention ({n}):', row: 'row ',
    more: '… and {n} more: see the results column.', lastSync: 'Last sync: ', trigger_menu: 'from the menu',
    trigger_schedule: 'on schedule', trigger_cli: 'from the command line', startedBy: 'started by ',
    unknownTrigger: 'an unknown trigger', by: ' by ', contact: ['contact', 'contacts'], rowWord: ['row', 'rows']
  },
  he: {
    menuSync: 'סנכרון עכשיו', menuPreview: 'תצוגה מקדימה (הרצת ניסיון)', menuLast: 'תוצאת הסנכרון האחרון',
    previewStarted: 'הרצת הניסיון התחילה…', syncStarted: 'הסנכרון התחיל…',
    busy: 'סנכרון של הגיליון הזה כבר רץ: התוצאה שלו תוצג כאן כשיסתיים.',
    stillRunning: 'הסנכרון עדיין רץ. בעוד כמה דקות בחרו inwise > תוצאת הסנכרון האחרון כדי לראות איך הוא הסתיים.',
    noRunYet: 'עדיין לא רץ סנכרון של הגיליון הזה. בחרו inwise > סנכרון עכשיו כדי להתחיל.',
    notSetUp: 'תפריט inwise עדיין לא מוגדר. ב-Extensions > Apps Script > Project Settings > Script properties ' +
              'הוסיפו את {urlProperty} (הכתובת של שירות הסנכרון) ואת {secretProperty} (הסוד של הגיליון הזה), ' +
              'את שניהם מקבלים ממנהל המערכת, ונסו שוב.',
    needsHttps: 'הכתובת ב-{urlProperty} חייבת להתחיל ב-https:// כדי שאף אחד לא יוכל לקרוא או לשנות את מה שנשלח.',
    unreachable: 'אין חיבור לשירות הסנכרון בכתובת {url} ({error}). בדקו את המאפיין {urlProperty}, או שאלו את מנהל ' +
                 'המערכת אם השירות פועל.',
    refused: 'שירות הסנכרון לא קיבל את הבקשה של הגיליון הזה. בדקו שהמאפיין {secretProperty} מכיל את הסוד שמנהל ' +
             'המערכת נתן לגיליון הזה, ושהשירות מוגדר עבורו (מזהה הגיליון {id}).',
    unknownRequest: 'שירות הסנכרון לא מכיר את הבקשה הזו. בדקו את המאפיין {urlProperty} (צריכה להיות בו כתובת ' +
                    'השירות בלבד, בלי שום דבר אחריה).',
    restarting: 'שירות הסנכרון מופעל מחדש. נסו שוב בעוד דקה.',
    redirects: 'הכתובת ב-{urlProperty} מפנה למקום אחר. כתבו שם את כתובת ה-https:// הסופית.',
    httpError: 'שירות הסנכרון החזיר שגיאה (HTTP {code}). נסו שוב מאוחר יותר, או פנו למנהל המערכת.',
    created: 'נוצרו', updated: 'עודכנו', unchanged: 'ללא שינוי', conflict: 'התנגשויות', invalid: 'לא תקינים',
    missing: 'אין אימייל או נייד', duplicate: 'כפולים', error: 'שגיאות', held: 'לא נשלחו (לא לסנכרן)',
    no_consent: 'לא נשלחו: אין הסכמה',
    running: 'סנכרון רץ עכשיו', sentOf: ' ({done} מתוך {total} שורות נשלחו)', failedPreview: 'הרצת הניסיון',
    failedSync: 'הסנכרון', failed: ' לא הסתיים.', stopped: 'הסנכרון נעצר לפני הסוף. ',
    finished: 'הסנכרון הסתיים.', note: 'לתשומת לב: ',
    preview: 'הרצת ניסיון (דבר לא נשלח): {contacts} יישלחו ל-inwise', previewAttention: '; {rows} דורשות טיפול.',
    firstAsSent: '{n} הראשונים כפי שיישלחו:', attention: 'שורות שדורשות טיפול ({n}):', row: 'שורה ',
    more: '… ועוד {n}: ראו את עמודת התוצאות.', lastSync: 'סנכרון אחרון: ', trigger_menu: 'מהתפריט',
    trigger_schedule: 'לפי לוח זמנים', trigger_cli: 'משורת הפקודה', startedBy: 'הופעל על ידי ',
    unknownTrigger: 'גורם לא ידוע', by: ' על ידי ', contact: ['איש קשר', 'אנשי קשר'], rowWord: ['שורה', 'שורות']
  }
};

// The language of a text: 'he' or 'en' given as such, a run's or an answer's (the mapping's), else the sheet's locale.
function language_(from) {
  if (from === 'he' || from === 'en') return from;
  if (from && (from.language === 'he' || from.language === 'en')) return from.language;
  return sheetLanguage_();
}

// Before the service has said: Hebrew for a spreadsheet whose locale is Hebrew (iw_IL, he).
function sheetLanguage_() {
  try {
    var locale = String(SpreadsheetApp.getActiveSpreadsheet().getSpreadsheetLocale() || '');
    return /^(iw|he)([_-]|$)/i.test(locale) ? 'he' : 'en';
  } catch (e) {
    return 'en'; // no spreadsheet to ask (e.g. run from the script editor)
  }
}

function t_(from, key, values) {
  var text = TEXTS[language_(from)][key];
  if (text === undefined) return '';
  Object.keys(values || {}).forEach(function (name) { text = text.split('{' + name + '}').join(values[name]); });
  return text;
}

function count_(run, n, key) {
  var words = TEXTS[language_(run)][key];
  return n + ' ' + words[n === 1 ? 0 : 1];
}
var ALWAYS_SHOWN = 5; // the first five counts are shown even when 0

function onOpen() {
  var lang = sheetLanguage_(); // a simple trigger cannot call the service: the spreadsheet's locale chooses
  SpreadsheetApp.getUi().createMenu(TITLE)
    .addItem(t_(lang, 'menuSync'), 'syncNow')
    .addItem(t_(lang, 'menuPreview'), 'previewSync')
    .addItem(t_(lang, 'menuLast'), 'showLastSyncResult')
    .addToUi();
}

function syncNow() {
  runFromMenu_(false);
}

function previewSync() {
  runFromMenu_(true);
}

function showLastSyncResult() {
  var settings = settings_();
  if (!settings) return;
  var ss = SpreadsheetApp.getActiveSpreadsheet();
  var answer = call_(settings, 'get', '/v1/runs/latest?spreadsheet=' + encodeURIComponent(ss.getId()));
  if (answer.code === 404) {
    alert_(t_(answer.data, 'noRunYet'));
  } else if (answer.code !== 200) {
    alert_(problemMessage_(answer, settings));
  } else {
    alert_(lastRunHeading_(answer.data, ss) + '\n\n' + runText_(answer.data));
  }
}

// --- the menu's work ----------------------------------------------------------------------

function runFromMenu_(dryRun) {
  var settings = settings_();
  if (!settings) return;
  var ss = SpreadsheetApp.getActiveSpreadsheet();
  var body = {
    spreadsheet_id: ss.getId(),
    worksheet: ss.getActiveSheet().getName(),
    dry_run: dryRun,
    nonce: Utilities.getUuid()
  };
  var email = activeUserEmail_();
  if (email) body.requested_by = email;
  var answer = call_(settings, 'post', '/v1/sync', asciiJson_(body));
  var runId;
  var lang = language_(answer.data); // the mapping's, from the service's answer
  if (answer.code === 202) {
    runId = answer.data.run_id;
    ss.toast(t_(lang, dryRun ? 'previewStarted' : 'syncStarted'), TITLE, 10);
  } else if (answer.code === 409 && answer.data && answer.data.run_id) {
    runId = answer.data.run_id;
    ss.toast(t_(lang, 'busy'), TITLE, 10);
  } else {
    alert_(problemMessage_(answer, settings));
    return;
  }
  var run = waitForRun_(settings, runId, lang);
  if (run.problem) {
    alert_(run.problem);
  } else if (!run.data) {
    alert_(t_(lang, 'stillRunning'));
  } else {
    alert_(runText_(run.data));
  }
}

function waitForRun_(settings, runId, lang) {
  var deadline = Date.now() + POLL_BUDGET_MS;
  while (Date.now() + POLL_INTERVAL_MS < deadline) {
    Utilities.sleep(POLL_INTERVAL_MS);
    var answer = call_(settings, 'get', '/v1/runs/' + encodeURIComponent(runId));
    if (answer.code !== 200) return {problem: problemMessage_(answer, settings, lang)};
    var state = answer.data.state;
    if (state === 'done' || state === 'failed' || state === 'cancelled') return {data: answer.data};
  }
  return {};
}

// --- texts the user reads -------------------------------------------------------------------

function runText_(run) {
  var lines = [];
  if (run.state === 'queued' || run.state === 'running') {
    var p = run.progress;
    lines.push(t_(run, 'running') + (p && p.total ? t_(run, 'sentOf', {done: p.done, total: p.total}) : '') + '.');
    return lines.join('\n');
  }
  if (run.state === 'failed') {
    return t_(run, run.dry_run ? 'failedPreview' : 'failedSync') + t_(run, 'failed') + '\n' + (run.error || '');
  }
  if (run.dry_run) return previewText_(run);
  lines.push(run.state === 'cancelled' ? t_(run, 'stopped') + (run.error || '') : t_(run, 'finished'));
  lines.push(countsText_(run.counts || {}, run));
  appendProblems_(lines, run);
  (run.warnings || []).forEach(function (w) { lines.push(t_(run, 'note') + w); });
  return lines.join('\n');
}

function previewText_(run) {
  var lines = [];
  var attention = run.problems_total || 0;
  lines.push(t_(run, 'preview', {contacts: count_(run, run.would_send || 0, 'contact')}) +
             (attention ? t_(run, 'previewAttention', {rows: count_(run, attention, 'rowWord')}) : '.'));
  var preview = run.preview_lines || [];
  if (preview.length) {
    lines.push('');
    lines.push(t_(run, 'firstAsSent', {n: Math.min(PREVIEW_SHOWN, preview.length)}));
    preview.slice(0, PREVIEW_SHOWN).forEach(function (line) { lines.push(line); });
  }
  appendProblems_(lines, run);
  return lines.join('\n');
}

function countsText_(counts, run) {
  var parts = [];
  COUNTS_SHOWN.forEach(function (key, i) {
    var n = counts[key] || 0;
    if (i < ALWAYS_SHOWN || n) parts.push(t_(run, key) + ': ' + n);
  });
  return parts.join(' · ');
}

function appendProblems_(lines, run) {
  var problems = run.problems || [];
  if (!problems.length) return;
  var total = run.problems_total || problems.length;
  lines.push('');
  lines.push(t_(run, 'attention', {n: total}));
  problems.slice(0, ROWS_SHOWN).forEach(function (p) { lines.push(t_(run, 'row') + p.row + ': ✗ ' + p.detail); });
  if (total > ROWS_SHOWN) lines.push(t_(run, 'more', {n: total - ROWS_SHOWN}));
}

// How each trigger the service reports is said ("cli" covers cron, Task Scheduler and a person at a terminal).

// Months as the results column names them in Hebrew (sheets_connector/messages: MONTHS).
var MONTHS_HE = ['בינו׳', 'בפבר׳', 'במרץ', 'באפר׳', 'במאי', 'ביוני', 'ביולי', 'באוג׳', 'בספט׳', 'באוק׳', 'בנוב׳', 'בדצמ׳'];

// 7 Dec 2026 02:31 / 7 בדצמ׳ 2026 02:31: one reading in every country
function when_(run, date, timeZone) {
  if (language_(run) !== 'he') return Utilities.formatDate(date, timeZone, 'd MMM yyyy HH:mm');
  var month = MONTHS_HE[Number(Utilities.formatDate(date, timeZone, 'MM')) - 1];
  return Utilities.formatDate(date, timeZone, 'd') + ' ' + month + ' ' + Utilities.formatDate(date, timeZone, 'yyyy HH:mm');
}

function lastRunHeading_(run, ss) {
  var when = when_(run, new Date(run.finished_at || run.started_at || run.created_at), ss.getSpreadsheetTimeZone());
  var how = t_(run, 'trigger_' + run.trigger) || (t_(run, 'startedBy') + (run.trigger || t_(run, 'unknownTrigger')));
  if (run.requested_by) how += t_(run, 'by') + run.requested_by; // who, when the service was told (Session email may be blank)
  return t_(run, 'lastSync') + when + ' (' + how + ')';
}

function problemMessage_(answer, settings, lang) {
  var names = {url: settings.url, error: answer.error, urlProperty: SERVICE_URL_PROPERTY, code: answer.code,
               secretProperty: SECRET_PROPERTY, id: SpreadsheetApp.getActiveSpreadsheet().getId()};
  switch (answer.code) {
    case 0:
      return t_(lang, 'unreachable', names);
    case 401:
      return t_(lang, 'refused', names);
    case 404:
      return t_(lang, 'unknownRequest', names);
    case 503:
      return t_(lang, 'restarting', names);
    default:
      return t_(lang, answer.code >= 300 && answer.code < 400 ? 'redirects' : 'httpError', names);
  }
}

function alert_(text) {
  var ui = SpreadsheetApp.getUi();
  ui.alert(TITLE, text, ui.ButtonSet.OK);
}

// --- talking to the service -----------------------------------------------------------------

function settings_() {
  var props = PropertiesService.getScriptProperties();
  var url = (props.getProperty(SERVICE_URL_PROPERTY) || '').trim().replace(/\/+$/, '');
  var secret = (props.getProperty(SECRET_PROPERTY) || '').trim();
  var names = {urlProperty: SERVICE_URL_PROPERTY, secretProperty: SECRET_PROPERTY};
  if (!url || !secret) {
    alert_(t_(null, 'notSetUp', names));
    return null;
  }
  if (!/^https:\/\//.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(url)) {
    alert_(t_(null, 'needsHttps', names));
    return null;
  }
  return {url: url, secret: secret};
}

function call_(settings, method, path, payload) {
  var signed = payload === undefined ? path : payload;
  var options = {
    method: method,
    headers: {'X-Signature': signature_(settings.secret, signed)},
    muteHttpExceptions: true,
    followRedirects: false
  };
  if (payload !== undefined) {
    options.contentType = 'application/json';
    options.payload = payload;
  }
  var response;
  try {
    response = UrlFetchApp.fetch(settings.url + path, options);
  } catch (e) {
    return {code: 0, error: String(e && e.message ? e.message : e)};
  }
  var data = null;
  try {
    data = JSON.parse(response.getContentText());
  } catch (e) {
    data = null;
  }
  return {code: response.getResponseCode(), data: data};
}

function signature_(secret, text) {
  var t = Math.floor(Date.now() / 1000);
  var bytes = Utilities.computeHmacSha256Signature(t + '.' + text, secret, Utilities.Charset.UTF_8);
  return 't=' + t + ',v1=' + hex_(bytes);
}

function hex_(signedBytes) {
  return signedBytes.map(function (b) { return ('0' + (b & 0xff).toString(16)).slice(-2); }).join('');
}

function asciiJson_(value) {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, function (c) {
    return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
  });
}

function activeUserEmail_() {
  try {
    return Session.getActiveUser().getEmail() || '';
  } catch (e) {
    return ''; // often blank or not allowed: it is only informational
  }
}
