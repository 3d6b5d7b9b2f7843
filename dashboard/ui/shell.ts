import { post } from './api.js';
import { $ } from './dom.js';
import { currentLang, setLang, t } from './i18n.js';
import { hasRole, model } from './state.js';

/**
 * The frame around every view: navigation, live-connection indicator, language switch, big-screen mode, user
 * and logout. Its labels carry data-i18n and follow the language switch.
 */
export interface ShellCallbacks {
  onLanguage(): void;
  onLogout(): void;
}

export function installShell(callbacks: ShellCallbacks): void {
  const lang = $('[data-testid="lang-switch"]')!;
  lang.addEventListener('click', () => {
    setLang(currentLang() === 'en' ? 'zh-CN' : 'en');
    callbacks.onLanguage();
  });
  $('[data-testid="bigscreen-toggle"]')!.addEventListener('click', () => void toggleBigScreen());
  $('[data-testid="logout"]')!.addEventListener('click', async () => {
    await post('/api/logout').catch(() => {});
    callbacks.onLogout();
  });
  document.addEventListener('fullscreenchange', () => document.body.classList.toggle('big', Boolean(document.fullscreenElement) || bigWanted));
  if (new URLSearchParams(location.search).has('big')) setBig(true);
}

let bigWanted = false;

function setBig(on: boolean): void {
  bigWanted = on;
  document.body.classList.toggle('big', on);
  $('[data-testid="bigscreen-toggle"]')?.setAttribute('aria-pressed', String(on));
}

/** Full screen with larger type for a wall display; without fullscreen permission the larger type still applies. */
async function toggleBigScreen(): Promise<void> {
  const on = !bigWanted;
  setBig(on);
  try {
    if (on && !document.fullscreenElement) await document.documentElement.requestFullscreen();
    if (!on && document.fullscreenElement) await document.exitFullscreen();
  } catch {
    // Fullscreen may be refused (iframe, kiosk browser): big type alone is still useful.
  }
}

export function showSignedIn(signedIn: boolean): void {
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-signed-in]'))) el.hidden = !signedIn;
  // Links to pages a role cannot use are not shown (the API refuses them anyway).
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-needs]'))) el.hidden = !signedIn || !hasRole(el.dataset.needs as 'operator' | 'admin');
  const user = $('[data-testid="current-user"]');
  if (user) user.textContent = model.me ? `${model.me.user} · ${model.me.role}` : '';
}

/**
 * The live connection's state in the top bar. When it is lost (the service restarts or the network drops), the
 * page keeps what it shows, greyed under a banner, until socket.io reconnects by itself and the views refetch.
 */
export function showConn(): void {
  const el = $('[data-testid="conn-status"]');
  if (!el) return;
  el.dataset.state = model.conn;
  el.textContent = t(`conn.${model.conn}`);
  const lost = model.conn === 'disconnected' && model.me !== null;
  document.body.classList.toggle('stale', lost);
  const banner = $('[data-testid="conn-lost"]');
  if (banner) banner.hidden = !lost;
}

export function markNav(hash: string): void {
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('header nav a'))) a.classList.toggle('active', hash === a.getAttribute('href') || (a.getAttribute('href') !== '#/' && hash.startsWith(a.getAttribute('href')!)));
}
