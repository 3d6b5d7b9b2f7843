import { zoneLabel } from '../../core/site-time.js';
import { post } from './api.js';
import { $, $$ } from './dom.js';
import { fmtAge } from './freshness.js';
import { currentLang, setLang, t } from './i18n.js';
import { hasRole, model } from './state.js';

/**
 * The frame around every view: navigation (a top bar on a desk, a bottom tab bar with 44 px targets on a phone),
 * the live-connection pill with the age of the newest message, the clock and "data as of" of a wall, the language
 * switch, big-screen mode, user and logout. Its labels carry data-i18n and follow the language switch.
 */
export interface ShellCallbacks {
  onLanguage(): void;
  onLogout(): void;
  onBig(): void;
}

/** No message for this long on a live connection: the pill says so (the sensors, not the connection, are quiet). */
const QUIET_MS = 60_000;

let callbacks: ShellCallbacks;

export function installShell(cb: ShellCallbacks): void {
  callbacks = cb;
  $('[data-testid="lang-switch"]')!.addEventListener('click', () => {
    setLang(currentLang() === 'en' ? 'zh-CN' : 'en');
    callbacks.onLanguage();
  });
  $('[data-testid="bigscreen-toggle"]')!.addEventListener('click', () => void toggleBigScreen());
  const logout = async () => {
    await post('/api/logout').catch(() => {});
    callbacks.onLogout();
  };
  $('[data-testid="logout"]')!.addEventListener('click', () => void logout());
  $('[data-testid="more-logout"]')!.addEventListener('click', () => void logout());
  const more = $('[data-testid="tab-more"]')!;
  const menu = $('[data-testid="more-menu"]')!;
  const setMenu = (open: boolean) => {
    menu.hidden = !open;
    more.setAttribute('aria-expanded', String(open));
  };
  more.addEventListener('click', () => setMenu(menu.hidden));
  menu.addEventListener('click', (e) => {
    if ((e.target as HTMLElement).closest('a')) setMenu(false);
  });
  window.addEventListener('hashchange', () => setMenu(false));
  document.addEventListener('fullscreenchange', () => setBig(Boolean(document.fullscreenElement) || bigWanted));
  window.addEventListener('resize', () => fitWall());
  if (new URLSearchParams(location.search).has('big')) setBig(true);
}

let bigWanted = false;

function setBig(on: boolean): void {
  const was = document.documentElement.classList.contains('big');
  bigWanted = on;
  document.documentElement.classList.toggle('big', on);
  document.body.classList.toggle('big', on);
  if (!on) document.documentElement.style.fontSize = '';
  $('[data-testid="bigscreen-toggle"]')?.setAttribute('aria-pressed', String(on));
  if (was !== on) callbacks?.onBig();
}

/** Full screen with larger type for a wall display; without fullscreen permission the wall layout still applies. */
async function toggleBigScreen(): Promise<void> {
  const on = !bigWanted;
  setBig(on);
  try {
    if (on && !document.fullscreenElement) await document.documentElement.requestFullscreen();
    if (!on && document.fullscreenElement) await document.exitFullscreen();
  } catch {
    // Fullscreen may be refused (iframe, kiosk browser): the wall layout alone is still useful.
  }
}

/** The smallest a wall's type may get to fit: 4/5 of the screen's size keeps key numbers (2.5rem) ≥ 48 px at 1920 px. */
const FIT_FLOOR = 0.8;

/**
 * A wall display shows everything without scrolling: when the page is taller than the screen (a storm fills the
 * alert strip), its type shrinks until it fits, but never below FIT_FLOOR of the size the screen's width gives.
 */
export function fitWall(): void {
  const root = document.documentElement;
  root.style.fontSize = '';
  if (!root.classList.contains('big')) return;
  const base = parseFloat(getComputedStyle(root).fontSize);
  let size = base;
  for (let i = 0; i < 8 && root.scrollHeight > window.innerHeight + 1 && size > base * FIT_FLOOR; i++) {
    // Not everything scales with the type (borders, gaps in px): step a little further than the ratio says.
    size = Math.max(base * FIT_FLOOR, size * Math.min(0.99, window.innerHeight / root.scrollHeight));
    root.style.fontSize = `${size}px`;
  }
}

export function showSignedIn(signedIn: boolean): void {
  for (const el of $$('[data-signed-in]')) el.hidden = !signedIn;
  // Links to pages a role cannot use are not shown (the API refuses them anyway).
  for (const el of $$('[data-needs]')) el.hidden = !signedIn || !hasRole(el.dataset.needs as 'operator' | 'admin');
  const text = model.me ? `${model.me.user} · ${t(`role.${model.me.role}`)}` : '';
  for (const el of $$('[data-testid="current-user"], [data-testid="more-user"]')) el.textContent = text;
  showClockZone();
}

/** The wall clock tells the sites' time: the zone they share (the demo farm's are all Asia/Shanghai). */
function showClockZone(): void {
  const zone = model.sites[0]?.timeZone ?? 'UTC';
  for (const el of $$('[data-bind="clock"], [data-bind="asof"]')) el.dataset.zone = zone;
  const label = $('[data-testid="wall-clock-zone"]');
  if (label) label.textContent = zoneLabel(zone, Date.now());
}

/**
 * The live connection's state in the top bar: "Live · 3 s" (the newest message's age), "no data for 2 min" when the
 * connection is up but nothing comes, or lost. When it is lost (the service restarts or the network drops), the
 * page keeps what it shows, greyed under a banner, until socket.io reconnects by itself and the views refetch.
 */
export function showConn(now = Date.now()): void {
  showClockZone();
  const el = $('[data-testid="conn-status"]');
  if (!el) return;
  const last = model.lastMessageAt;
  const quiet = model.conn === 'connected' && last !== undefined && now - last > QUIET_MS;
  el.dataset.state = quiet ? 'quiet' : model.conn;
  el.textContent =
    model.conn !== 'connected'
      ? t(`conn.${model.conn}`)
      : last === undefined
        ? t('conn.liveNoData')
        : quiet
          ? t('conn.quiet', { age: fmtAge(now - last, currentLang()) })
          : t('conn.live', { age: fmtAge(now - last, currentLang()) });
  const lost = model.conn === 'disconnected' && model.me !== null;
  document.body.classList.toggle('stale', lost);
  const banner = $('[data-testid="conn-lost"]');
  if (banner) banner.hidden = !lost;
}

export function markNav(hash: string): void {
  for (const a of $$('header nav a, nav.tabbar a') as HTMLAnchorElement[]) {
    const href = a.getAttribute('href')!;
    const active = hash === href || (href !== '#/' && hash.startsWith(href));
    a.classList.toggle('active', active);
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}
