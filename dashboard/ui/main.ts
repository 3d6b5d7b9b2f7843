import 'uplot/dist/uPlot.min.css';
import './app.css';
import type { ActuatorViewT, AlertT, CommandT, MeT, SilenceT, SiteViewT } from '../schemas.js';
import { ApiFailure, get, post, whenUnauthenticated } from './api.js';
import { patch, patchNow } from './bind.js';
import { esc, toast } from './dom.js';
import { currentLang, setLang, t } from './i18n.js';
import { connectLive, disconnectLive, viewSites } from './live.js';
import { installShell, markNav, showConn, showSignedIn } from './shell.js';
import { applyActuator, applyAlert, applyCommand, applySnapshot, deviceEntry, hasRole, model, setActiveAlerts, setSilences, setSites, subscribe } from './state.js';
import { alertsView } from './views/alerts.js';
import { animalsView, animalView } from './views/animals.js';
import { auditView } from './views/audit.js';
import { displaysView } from './views/displays.js';
import { sharesView } from './views/shares.js';
import { usersView } from './views/users.js';
import { drainageView } from './views/drainage.js';
import { historyView, RANGES, type Range } from './views/history.js';
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
  if (parts[0] === 'history' && parts[1] && parts[2]) {
    const range = new URLSearchParams(query).get('range');
    return historyView(parts[1], parts[2], (RANGES as readonly string[]).includes(range ?? '') ? (range as Range) : '24h');
  }
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
    if (!(err instanceof ApiFailure && err.status === 401)) main.innerHTML = `<p class="error">${esc(t('common.error', { msg: (err as Error).message }))}</p>`;
  }
  patchNow();
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
}

/** Sites the page has just started to listen to: fetch their state (and the alerts) as of now. */
async function refreshSites(ids: string[]): Promise<void> {
  const [sites, alerts] = await Promise.all([Promise.all(ids.map((id) => get<SiteViewT>(`/api/sites/${encodeURIComponent(id)}`))), get<{ alerts: AlertT[] }>('/api/alerts?state=active')]);
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

/** Buttons carry data-action; the state they change is shown only when the server (and the actuator) confirm it. */
async function act(button: HTMLElement): Promise<void> {
  const device = button.dataset.device ?? '';
  const path = `/api/actuators/${encodeURIComponent(device)}`;
  if (button.dataset.action === 'command') {
    const action = button.dataset.cmd!;
    const input = document.querySelector<HTMLInputElement>(`[data-testid="actuator-${CSS.escape(device)}-value"]`);
    const body = action === 'set' ? { action, value: Number(input?.value ?? 0) } : { action };
    const { command } = await post<{ command: CommandT }>(`${path}/command`, body);
    const entry = deviceEntry(device);
    if (entry) applyCommand({ site: entry.site.id, zone: entry.zone.id, kind: entry.zone.kind, device, command });
  } else if (button.dataset.action === 'mode') {
    const { actuator } = await post<{ actuator: ActuatorViewT }>(`${path}/mode`, { mode: button.dataset.to });
    applyActuator({ change: 'mode', site: actuator.site, zone: actuator.zone, kind: actuator.kind, device, mode: actuator.mode, until: actuator.manualUntil, ts: Date.now() });
  } else if (button.dataset.action === 'ack') {
    const { alert } = await post<{ alert: AlertT }>(`/api/alerts/${encodeURIComponent(button.dataset.alertId!)}/ack`);
    applyAlert(alert);
  }
}

document.addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest<HTMLElement>('[data-action]');
  if (!button || button.hasAttribute('disabled')) return;
  button.setAttribute('disabled', '');
  act(button)
    .catch((err: Error) => toast(t('common.error', { msg: err.message })))
    .finally(() => button.removeAttribute('disabled'));
});

subscribe((change) => {
  if (change.kind === 'conn') showConn();
  current?.onChange?.(change, main);
  patch();
});

/**
 * Live events come only for the sites on screen; the alert badge counts every site's alerts, so while a view
 * shows only some sites, the active alerts are fetched now and then.
 */
const ALERTS_POLL_MS = 30_000;
setInterval(() => {
  if (!model.me || !current || current.sites().length >= model.sites.length) return;
  get<{ alerts: AlertT[] }>('/api/alerts?state=active', { quiet401: true }).then((r) => setActiveAlerts(r.alerts), () => {});
}, ALERTS_POLL_MS);

whenUnauthenticated(showLogin);
setLang(currentLang());
installShell({
  onLanguage: () => {
    showConn();
    if (current) void show(current);
  },
  onLogout: showLogin,
});
showConn();
window.addEventListener('hashchange', route);
get<MeT>('/api/me', { quiet401: true }).then(
  (me) => startSession(me),
  () => showLogin(),
);
