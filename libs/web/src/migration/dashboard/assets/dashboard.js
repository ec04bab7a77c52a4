// The migration dashboard's script (an ES module, served by MigrationDashboardController from this app
// only: the page's Content-Security-Policy allows no other origin and no inline code). It talks to the REST
// API with the bearer token in the Authorization header; the token lives in sessionStorage (this tab only),
// never in a URL or a cookie. Everything from the server is written with textContent, never as HTML.
import { createParser } from './eventsource-parser.js';

const TOKEN_KEY = 'ai-migration-dashboard-token';
/** `/api/ai/migration/` under whatever prefix the app is mounted at. */
const MIGRATION = new URL('./', location.href);
const AUTH_ME = new URL('../auth/me', MIGRATION);
const ACTIVE = new Set(['PENDING', 'RUNNING', 'PAUSED']);
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
/** The server allows 10 open event streams per token; the page keeps a margin for a CLI in parallel. */
const MAX_STREAMS = 8;
const REFRESH_MS = 5000;

const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const migration = (path) => new URL(path, MIGRATION);

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let role = 'viewer';
let refreshTimer = 0;
/** @type {Map<string, AbortController>} open event streams by job id */
const streams = new Map();
/** @type {Map<string, ReturnType<typeof createCard>>} job cards by job id */
const cards = new Map();

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** A JSON request to the API; a non-2xx answer throws the server's message. */
async function api(method, url, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) throw new ApiError(response.status, data && typeof data.message === 'string' ? data.message : `The server answered HTTP ${response.status}.`);
  return data;
}

// ---- formatting ----------------------------------------------------------------------------------------

const count = (n) => Math.round(n ?? 0).toLocaleString('en-US');
const usd = (n) => `$${(n ?? 0) < 1 ? (n ?? 0).toFixed(4) : n.toFixed(2)}`;

/** Seconds of an ISO 8601 duration (`PT1M5S`), or undefined. */
function isoSeconds(iso) {
  const match = iso ? /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso) : null;
  if (!match) return undefined;
  const [, d, h, m, s] = match.map((part) => Number(part ?? 0));
  return d * 86400 + h * 3600 + m * 60 + s;
}

/** "1h 2m" from seconds; "–" when unknown. */
function duration(seconds) {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) return '–';
  let rest = Math.max(0, Math.round(seconds));
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]]) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.slice(0, 2).join(' ');
}

/** An element with a class and text. */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, action, style) {
  const node = el('button', style, label);
  node.type = 'button';
  node.dataset.action = action;
  return node;
}

// ---- notices -------------------------------------------------------------------------------------------

function notify(message, isError = false) {
  const notice = byId('notice');
  notice.textContent = message;
  notice.classList.toggle('error', isError);
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut('The token was refused (it may have been removed from the configuration); sign in again.');
    return;
  }
  notify(error instanceof Error ? error.message : String(error), true);
}

// ---- jobs ----------------------------------------------------------------------------------------------

/** What a card shows, from a job (list) or a progress snapshot (event stream). */
function fromJob(job) {
  const done = job.processedEntities + job.skippedEntities + job.failedEntities;
  return {
    id: job.id,
    entityType: job.entityType,
    kind: job.kind,
    status: job.status,
    pauseReason: job.pauseReason,
    total: job.totalEntities,
    processed: job.processedEntities,
    skipped: job.skippedEntities,
    failed: job.failedEntities,
    percent: job.totalEntities > 0 ? (100 * done) / job.totalEntities : FINAL.has(job.status) ? 100 : 0,
    cost: job.usage.estimatedCost,
    rateLimit: job.rateLimit,
    error: job.errorMessage,
  };
}

function fromProgress(p) {
  return {
    id: p.jobId,
    status: p.status,
    pauseReason: p.pauseReason,
    total: p.progress.total,
    processed: p.progress.processed,
    skipped: p.skipped,
    failed: p.progress.failed,
    percent: p.progress.percentComplete,
    rate: p.throughput,
    eta: p.progress.estimatedTimeRemaining,
    cost: p.usage.estimatedCost,
    error: p.errorMessage,
  };
}

/** The card of one job: its elements, and update() for new figures. */
function createCard(id) {
  const item = el('li', 'job');
  item.dataset.jobId = id;
  const title = el('h3');
  const entity = el('span', 'entity');
  const kind = el('span', 'kind');
  const badge = el('span', 'badge');
  const ident = el('span', 'id', id);
  title.append(entity, kind, badge, ident);
  const bar = /** @type {HTMLProgressElement} */ (el('progress'));
  bar.max = 100;
  bar.setAttribute('aria-label', `Progress of job ${id}`);
  const figures = el('ul', 'figures');
  const figure = (label) => {
    const li = el('li');
    const value = el('b');
    li.append(label ? `${label} ` : '', value);
    figures.append(li);
    return value;
  };
  const percent = figure('');
  const processed = figure('processed');
  const skipped = figure('skipped');
  const failedCount = figure('failed');
  const rate = figure('rate');
  const eta = figure('ETA');
  const spend = figure('spend');
  const message = el('p', 'message');
  message.hidden = true;
  item.append(title, bar, figures, message);

  let controls;
  if (role === 'admin') {
    controls = el('div', 'controls admin-only');
    const rateInput = /** @type {HTMLInputElement} */ (el('input'));
    rateInput.type = 'number';
    rateInput.min = '1';
    rateInput.inputMode = 'numeric';
    rateInput.id = `rate-${id}`;
    rateInput.placeholder = 'req/min';
    rateInput.setAttribute('aria-label', `New rate limit of job ${id} (requests per minute)`);
    controls.append(button('Pause', 'pause'), button('Resume', 'resume'), button('Cancel', 'cancel', 'danger'), rateInput, button('Rethrottle', 'rethrottle', 'secondary'));
    controls.addEventListener('click', (event) => {
      const target = /** @type {HTMLElement} */ (event.target);
      const action = target.dataset?.action;
      if (action) void act(id, action, rateInput).catch(failed);
    });
    item.append(controls);
  }

  const view = {};
  return {
    item,
    update(next) {
      for (const [key, value] of Object.entries(next)) if (value !== undefined) view[key] = value;
      item.dataset.status = view.status;
      entity.textContent = view.entityType ?? '';
      kind.textContent = (view.kind ?? '').toLowerCase();
      badge.textContent = view.pauseReason && view.status === 'PAUSED' ? `PAUSED · ${view.pauseReason}` : view.status;
      badge.className = `badge ${view.status}`;
      const pct = Math.max(0, Math.min(100, view.percent ?? 0));
      bar.value = pct;
      bar.textContent = `${pct.toFixed(1)}%`;
      percent.textContent = `${pct.toFixed(1)}%`;
      processed.textContent = `${count(view.processed)} / ${count(view.total)}`;
      skipped.textContent = count(view.skipped);
      failedCount.textContent = count(view.failed);
      rate.textContent = view.rate !== undefined && ACTIVE.has(view.status) ? `${view.rate.toFixed(1)}/s` : '–';
      eta.textContent = view.status === 'RUNNING' ? duration(isoSeconds(view.eta)) : '–';
      spend.textContent = usd(view.cost);
      // errorMessage holds the failure of a FAILED job, or the reason given for a pause.
      message.hidden = !view.error;
      message.textContent = view.error ?? '';
      message.classList.toggle('failure', view.status === 'FAILED');
      if (controls) {
        controls.hidden = !ACTIVE.has(view.status);
        for (const node of controls.querySelectorAll('button')) {
          const action = node.dataset.action;
          node.hidden = (action === 'pause' && view.status !== 'RUNNING') || (action === 'resume' && view.status !== 'PAUSED');
        }
      }
    },
  };
}

function renderJobs(jobs) {
  const list = byId('jobs');
  byId('jobs-empty').hidden = jobs.length > 0;
  const seen = new Set();
  for (const job of jobs) {
    seen.add(job.id);
    let card = cards.get(job.id);
    if (!card) {
      card = createCard(job.id);
      cards.set(job.id, card);
    }
    // A streamed snapshot is fresher than the list for everything it carries; the list adds the rest.
    card.update(streams.has(job.id) ? { entityType: job.entityType, kind: job.kind, rateLimit: job.rateLimit } : fromJob(job));
    list.append(card.item);
    if (ACTIVE.has(job.status)) follow(job.id);
  }
  for (const [id, card] of cards) {
    if (!seen.has(id)) {
      card.item.remove();
      cards.delete(id);
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Follows a job's Server-Sent Events (with the Authorization header, which EventSource cannot send),
 * reopening a dropped stream with Last-Event-ID, until the job ends or the page signs out.
 */
function follow(id) {
  if (streams.has(id) || streams.size >= MAX_STREAMS) return;
  const controller = new AbortController();
  streams.set(id, controller);
  void (async () => {
    let lastEventId;
    let ended = false;
    for (let attempt = 0; attempt < 5 && !ended && !controller.signal.aborted; attempt++) {
      try {
        const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token}` };
        if (lastEventId) headers['Last-Event-ID'] = lastEventId;
        const response = await fetch(migration(`jobs/${encodeURIComponent(id)}/events`), { headers, signal: controller.signal, credentials: 'omit', cache: 'no-store' });
        if (!response.ok || !response.body) break;
        const parser = createParser({
          onEvent(event) {
            if (event.event !== 'progress') return;
            attempt = 0;
            lastEventId = event.id;
            const snapshot = JSON.parse(event.data);
            cards.get(id)?.update(fromProgress(snapshot));
            if (FINAL.has(snapshot.status)) ended = true;
          },
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      if (!ended) await sleep(1000);
    }
    streams.delete(id);
    if (ended && !controller.signal.aborted) void refresh().catch(failed);
  })();
}

/** A job's button: pause, resume, cancel or rethrottle. */
async function act(id, action, rateInput) {
  const path = migration(`jobs/${encodeURIComponent(id)}`);
  if (action === 'pause') {
    await api('POST', `${path}/pause`, { reason: 'paused from the dashboard' });
    notify(`Paused job ${id}.`);
  } else if (action === 'resume') {
    await api('POST', `${path}/resume`);
    notify(`Resumed job ${id}.`);
  } else if (action === 'cancel') {
    if (!confirm(`Cancel job ${id}? Pending entities are dropped; vectors already written stay.`)) return;
    await api('DELETE', path);
    notify(`Cancelled job ${id}.`);
  } else if (action === 'rethrottle') {
    const value = Number(rateInput.value);
    if (!Number.isInteger(value) || value < 1) {
      notify('Rate limit: enter a whole number of requests per minute, at least 1.', true);
      rateInput.focus();
      return;
    }
    await api('PATCH', path, { rateLimit: value });
    notify(`Job ${id} now sends at most ${count(value)} requests per minute.`);
  }
  await refresh();
}

// ---- generations ---------------------------------------------------------------------------------------

function renderGenerations(generations) {
  const body = /** @type {HTMLTableElement} */ (byId('generations')).tBodies[0];
  body.replaceChildren();
  for (const g of generations) {
    const row = el('tr');
    row.dataset.generationId = String(g.id);
    const badge = el('span', `badge ${g.state}`, g.state);
    const state = el('td');
    state.append(badge);
    row.append(
      el('td', '', String(g.id)),
      el('td', '', g.entityType),
      state,
      el('td', '', `${g.model} (${g.dimensions})`),
      el('td', '', g.gatePassed === null ? 'not run' : g.gatePassed ? 'passed' : 'failed'),
      el('td', '', g.servingSince ? new Date(g.servingSince).toLocaleString() : '–'),
    );
    if (role === 'admin') {
      const actions = el('td', 'admin-only');
      if (g.state === 'READY') actions.append(button('Cut over', 'cutover'));
      const previous = generations.some((o) => o.entityType === g.entityType && o.state === 'READY' && o.supersededAt);
      if (g.state === 'SERVING' && previous) actions.append(button('Roll back', 'rollback', 'secondary'));
      actions.addEventListener('click', (event) => {
        const action = /** @type {HTMLElement} */ (event.target).dataset?.action;
        if (action) void switchGeneration(g, action).catch(failed);
      });
      row.append(actions);
    }
    body.append(row);
  }
}

async function switchGeneration(g, action) {
  const result =
    action === 'cutover'
      ? confirm(`Cut ${g.entityType} over to generation ${g.id} (${g.model})? Search uses it from the next query on.`) &&
        (await api('POST', migration(`generations/${g.id}/cutover`), {}))
      : confirm(`Roll ${g.entityType} back to the generation that served before?`) && (await api('POST', migration('generations/rollback'), { entityType: g.entityType }));
  if (!result) return;
  notify(`${result.entityType} is now served by generation ${result.serving.id}; generation ${result.previous.id} is kept current for a rollback.`);
  await refresh();
}

// ---- start form ----------------------------------------------------------------------------------------

function fillEntityTypes(types) {
  const select = /** @type {HTMLSelectElement} */ (byId('start-entity'));
  const current = select.value;
  const wanted = [...types].sort();
  if (wanted.join('\n') === [...select.options].map((o) => o.value).join('\n')) return;
  select.replaceChildren(...wanted.map((type) => Object.assign(document.createElement('option'), { value: type, textContent: type })));
  if (wanted.includes(current)) select.value = current;
}

/** The start form as a request body; a bad number is reported, naming the field. */
function startRequest() {
  const form = /** @type {HTMLFormElement} */ (byId('start-form'));
  const data = new FormData(form);
  const body = { entityType: String(data.get('entityType') ?? '') };
  const number = (name, label, integer) => {
    const raw = String(data.get(name) ?? '').trim();
    if (raw === '') return;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) throw new Error(`${label}: enter ${integer ? 'a whole number' : 'a number'}, or leave it empty.`);
    body[name] = value;
  };
  number('batchSize', 'Batch size', true);
  number('rateLimit', 'Rate limit', true);
  number('maxCost', 'Budget', false);
  if (data.get('reindexExisting')) body.reindexExisting = true;
  if (!body.entityType) throw new Error('Entity type: choose one.');
  return body;
}

async function start(event) {
  event.preventDefault();
  const job = await api('POST', migration('start'), startRequest());
  notify(`Started job ${job.id} for ${job.entityType} (${count(job.totalEntities)} entities).`);
  await refresh();
}

async function estimate() {
  const e = await api('POST', migration('estimate'), startRequest());
  byId('estimate').textContent =
    `${count(e.matching)} match, ${count(e.wouldSkip)} up to date, ${count(e.wouldEmbed)} to embed: ` +
    `about ${count(e.estimatedTokens)} tokens, ${usd(e.estimatedCostUsd)}, ${e.estimatedDuration ? duration(isoSeconds(e.estimatedDuration)) : 'duration unknown'}.`;
}

// ---- session -------------------------------------------------------------------------------------------

async function refresh() {
  const [page, generations] = await Promise.all([
    api('GET', migration('jobs?limit=20')),
    api('GET', migration('generations')).catch((error) => {
      if (error instanceof ApiError && error.status === 404) return [];
      throw error;
    }),
  ]);
  renderJobs(page.items);
  renderGenerations(generations);
  fillEntityTypes(new Set([...generations.map((g) => g.entityType), ...page.items.map((j) => j.entityType)]));
}

async function signIn(candidate) {
  token = candidate;
  const me = await api('GET', AUTH_ME);
  role = me.role;
  // The first read proves the token may see jobs (a search-only token may not) before the page switches.
  await refresh();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  document.body.classList.toggle('viewer', role !== 'admin');
  byId('who').textContent = role === 'admin' ? `Signed in as ${me.name} (admin)` : `Signed in as ${me.name} (${me.role}, read-only)`;
  byId('session').hidden = false;
  byId('sign-in-section').hidden = true;
  byId('app').hidden = false;
  /** @type {HTMLInputElement} */ (byId('token')).value = '';
  clearInterval(refreshTimer);
  refreshTimer = window.setInterval(() => void refresh().catch(failed), REFRESH_MS);
}

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  token = '';
  clearInterval(refreshTimer);
  for (const controller of streams.values()) controller.abort();
  streams.clear();
  for (const card of cards.values()) card.item.remove();
  cards.clear();
  byId('app').hidden = true;
  byId('session').hidden = true;
  byId('sign-in-section').hidden = false;
  byId('sign-in-error').textContent = message;
  notify('');
  byId('token').focus();
}

byId('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const candidate = /** @type {HTMLInputElement} */ (byId('token')).value.trim();
  if (!candidate) {
    byId('sign-in-error').textContent = 'Enter a bearer token.';
    return;
  }
  byId('sign-in-error').textContent = '';
  void signIn(candidate).then(
    () => byId('main').focus(),
    (error) => {
      token = '';
      for (const card of cards.values()) card.item.remove();
      cards.clear();
      byId('sign-in-error').textContent = error.message;
    },
  );
});
byId('sign-out').addEventListener('click', () => signOut());
byId('start-form').addEventListener('submit', (event) => void start(event).catch(failed));
byId('estimate-button').addEventListener('click', () => void estimate().catch(failed));

// A token kept by this tab, or no token at all when the app runs without authentication.
void signIn(token).catch(() => {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  byId('sign-in-section').hidden = false;
});
