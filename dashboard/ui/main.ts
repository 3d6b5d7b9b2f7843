import 'uplot/dist/uPlot.min.css';
import './app.css';
import type { ActuatorViewT, AlertT, CommandT, MeT, SilenceT, SiteViewT } from '../schemas.js';
import { ApiFailure, get, post, whenUnauthenticated } from './api.js';
import { patch, patchNow } from './bind.js';
import { esc, toast } from './dom.js';
import { currentLang, setLang, t } from './i18n.js';
import { connectLive, disconnectLive, viewSites } from './live.js';
import { fitWall, installShell, markNav, showConn, showSignedIn } from './shell.js';
import {
  applyActuator,
  applyAlert,
  applyCommand,
  applySnapshot,
  deviceEntry,
  hasRole,
  model,
  setActiveAlerts,
  setRules,
  setSilences,
  setSites,
  subscribe,
} from './state.js';
import { errorText, type ErrorContext } from './error-text.js';
import { askCommand, askMode, closePanel, confirmed, type ControlRequest } from './views/controls.js';
import type { RuleT } from '../../rules/schema.js';
import { alertsView } from './views/alerts.js';
import { animalsView, animalView } from './views/animals.js';
import { auditView } from './views/audit.js';
import { displaysView } from './views/displays.js';
import { sharesView } from './views/shares.js';
import { usersView } from './views/users.js';
import { drainageView } from './views/drainage.js';
import { historyView, spanOf } from './views/history.js';
import { loginView } from './views/login.js';
import { overviewView } from './views/overview.js';
import { siteView, zoneView } from './views/site.js';
import type { View } from './views/view.js';

/** Boot, routing (#/…) and the actions behind buttons. */
const main = document.getElementById('view')!;
let current: View | undefined;

function viewFor(hash: string): View {
  const [path, query] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'site' && parts[1] && parts[2] === 'zone' && parts[3]) return zoneView(parts[1], parts[3]);
  if (parts[0] === 'site' && parts[1] && parts[2] === 'drainage') return drainageView(parts[1]);
  if (parts[0] === 'site' && parts[1]) return siteView(parts[1]);
  if (parts[0] === 'alerts') return alertsView(new URLSearchParams(query).get('alert') ?? undefined);
  if (parts[0] === 'animals' && parts[1]) return animalView(parts[1]);
  if (parts[0] === 'animals') return animalsView(new URLSearchParams(query));
  if (parts[0] === 'users' && hasRole('admin')) return usersView();
  if (parts[0] === 'displays' && hasRole('admin')) return displaysView();
  if (parts[0] === 'audit' && hasRole('admin')) return auditView();
  if (parts[0] === 'shares' && hasRole('operator')) return sharesView();
  if (parts[0] === 'history' && parts[1] && parts[2]) return historyView(parts[1], parts[2], spanOf(new URLSearchParams(query)));
  return overviewView();
}

async function show(view: View): Promise<void> {
  current?.dispose?.();
  current = view;
  viewSites(view.sites());
  markNav(location.hash || '#/');
  try {
    await view.render(main);
  } catch (err) {
    // A view left while it was still loading (the reader went on before its answer came) no longer owns the page:
    // its failure must not replace the view shown now.
    if (current !== view) return;
    if (!(err instanceof ApiFailure)) console.error('the view failed to render', err);
    if (!(err instanceof ApiFailure && err.status === 401)) main.innerHTML = `<p class="error">${esc(errorText(err))}</p>`;
  }
  patchNow();
  fitWall();
}

function route(): void {
  if (!model.me) return void showLogin();
  void show(viewFor(location.hash));
}

async function loadData(): Promise<void> {
  const [sites, alerts, silences] = await Promise.all([
    get<{ sites: SiteViewT[] }>('/api/sites'),
    get<{ alerts: AlertT[] }>('/api/alerts?state=active'),
    get<{ silences: SilenceT[] }>('/api/silences').catch(() => ({ silences: [] })),
  ]);
  setSites(sites.sites);
  setActiveAlerts(alerts.alerts);
  setSilences(silences.silences);
  await loadRules();
}

/** The rules write alert texts in the reader's language and draw thresholds on charts; they change rarely. */
function loadRules(): Promise<void> {
  return get<{ rules: RuleT[] }>('/api/rules', { quiet401: true }).then(
    (r) => setRules(r.rules),
    () => {},
  );
}

/** Sites the page has just started to listen to: fetch their state (and the alerts) as of now. */
async function refreshSites(ids: string[]): Promise<void> {
  const [sites, alerts] = await Promise.all([
    Promise.all(ids.map((id) => get<SiteViewT>(`/api/sites/${encodeURIComponent(id)}`))),
    get<{ alerts: AlertT[] }>('/api/alerts?state=active'),
  ]);
  applySnapshot(sites, alerts.alerts);
}

async function startSession(me: MeT): Promise<void> {
  model.me = me;
  showSignedIn(true);
  await loadData();
  connectLive({ sessionEnded: showLogin, joined: (ids) => void refreshSites(ids).catch(() => {}) });
  route();
}

function showLogin(): void {
  model.me = null;
  disconnectLive();
  showSignedIn(false);
  void show(loginView((me) => void startSession(me)));
}

/**
 * Buttons carry data-action. The state they change is shown only when the server (and the actuator) confirm it:
 *   ask / ask-mode          open the confirmation of a command or of manual mode (views/controls.ts)
 *   command / mode          send what the confirmation says
 *   ack / ack-many / ack-selected   acknowledge one alert, a group, or the ticked ones
 */
async function send(req: ControlRequest): Promise<void> {
  const path = `/api/actuators/${encodeURIComponent(req.device)}`;
  const entry = deviceEntry(req.device);
  if (req.kind === 'command') {
    const { command } = await post<{ command: CommandT }>(`${path}/command`, {
      action: req.action,
      ...(req.value !== undefined ? { value: req.value } : {}),
      ...(req.forMinutes ? { forMinutes: req.forMinutes } : {}),
    });
    if (entry) applyCommand({ site: entry.site.id, zone: entry.zone.id, kind: entry.zone.kind, device: req.device, command }, false);
  } else {
    const { actuator } = await post<{ actuator: ActuatorViewT }>(`${path}/mode`, { mode: req.mode, ...(req.forMinutes ? { forMinutes: req.forMinutes } : {}) });
    applyActuator(
      {
        change: 'mode',
        site: actuator.site,
        zone: actuator.zone,
        kind: actuator.kind,
        device: req.device,
        mode: actuator.mode,
        until: actuator.manualUntil,
        ts: Date.now(),
      },
      false,
    );
  }
  closePanel(req.device);
}

/** Acknowledges several alerts, a few at a time; says how many went through and why the others did not. */
async function ackMany(ids: string[]): Promise<void> {
  let done = 0;
  const failures: unknown[] = [];
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id; id = queue.shift()) {
      try {
        applyAlert((await post<{ alert: AlertT }>(`/api/alerts/${encodeURIComponent(id)}/ack`)).alert, false);
        done++;
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  if (failures.length > 0) toast(t('alerts.ackFailed', { n: failures.length, msg: errorText(failures[0], 'ack') }));
  else toast(t('alerts.ackDone', { n: done }), 'info');
}

async function act(button: HTMLElement): Promise<void> {
  switch (button.dataset.action) {
    case 'ask':
      return askCommand(button);
    case 'ask-mode': {
      const now = askMode(button);
      return now ? send(now) : undefined;
    }
    case 'cancel':
      return closePanel(button.dataset.device!);
    case 'command':
    case 'mode':
      return send(confirmed(button));
    case 'ack':
      return void applyAlert((await post<{ alert: AlertT }>(`/api/alerts/${encodeURIComponent(button.dataset.alertId!)}/ack`)).alert, false);
    case 'ack-many':
      return ackMany((button.dataset.ids ?? '').split(' ').filter(Boolean));
    case 'ack-selected':
      return ackMany(Array.from(document.querySelectorAll<HTMLInputElement>('input[data-select]:checked')).map((i) => i.dataset.select!));
  }
}

const CONTEXT: Record<string, ErrorContext> = { command: 'command', mode: 'mode', ack: 'ack', 'ack-many': 'ack', 'ack-selected': 'ack' };

document.addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest<HTMLElement>('[data-action]');
  if (!button || button.hasAttribute('disabled')) return;
  button.setAttribute('disabled', '');
  act(button)
    .catch((err: unknown) => toast(errorText(err, CONTEXT[button.dataset.action ?? ''])))
    .finally(() => button.removeAttribute('disabled'));
});

let fitting: ReturnType<typeof setTimeout> | undefined;
subscribe((change) => {
  if (change.kind === 'conn') showConn();
  current?.onChange?.(change, main);
  patch();
  // What the wall shows may have grown (a storm fills the alert strip): fit it again, once things settle.
  if (['alert', 'alerts', 'sites', 'drainage', 'rules'].includes(change.kind) && !fitting) fitting = setTimeout(() => ((fitting = undefined), fitWall()), 300);
});

/**
 * Live events come only for the sites on screen; the alert badge counts every site's alerts, so while a view
 * shows only some sites, the active alerts are fetched now and then.
 */
const ALERTS_POLL_MS = 30_000;
setInterval(() => {
  if (!model.me || !current || current.sites().length >= model.sites.length) return;
  get<{ alerts: AlertT[] }>('/api/alerts?state=active', { quiet401: true }).then(
    (r) => setActiveAlerts(r.alerts),
    () => {},
  );
}, ALERTS_POLL_MS);
const RULES_POLL_MS = 5 * 60_000;
setInterval(() => model.me && void loadRules(), RULES_POLL_MS);

/** Ages grow without any event: the pill every second, the values' ages every few seconds. */
const AGE_TICK_MS = 5_000;
let ticks = 0;
setInterval(() => {
  if (!model.me) return;
  showConn();
  if (++ticks % (AGE_TICK_MS / 1000) === 0) patch();
  else for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-bind="clock"]'))) patchNow(el.parentElement ?? el);
}, 1000);

whenUnauthenticated(showLogin);
setLang(currentLang());
installShell({
  onLanguage: () => {
    showConn();
    if (model.me) showSignedIn(true); // the user's role, in the new language
    if (current) void show(current);
  },
  onLogout: showLogin,
  // The wall lays the overview out differently: draw it again.
  onBig: () => {
    if (current && model.me) void show(current);
  },
});
showConn();
window.addEventListener('hashchange', route);
get<MeT>('/api/me', { quiet401: true }).then(
  (me) => startSession(me),
  () => showLogin(),
);
