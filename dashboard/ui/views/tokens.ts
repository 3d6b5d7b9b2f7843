import type { LocalText } from '../../../core/local-text.js';
import { esc } from '../dom.js';
import { currentLang, named, t, tr } from '../i18n.js';
import { fmtZoned } from '../zoned-time.js';

/** Pieces shared by the share-link and display-token pages: state, times, the link shown once. */
export function stateCell(state: string): string {
  return `<span class="state-${esc(state)}" data-testid="token-state">${esc(tr('tokens.state', state))}</span>`;
}

export function timeCell(ts: number | undefined, zone: string, empty: string): string {
  return ts === undefined ? esc(empty) : esc(fmtZoned(ts, zone, currentLang()));
}

/** The new link, once: only its hash is kept on the server. */
export function onceBox(url: string): string {
  return `<div class="once" data-testid="new-link"><span>${esc(t('tokens.once'))}</span><code data-testid="new-link-url">${esc(url)}</code>
    <span><button type="button" data-copy="${esc(url)}">${esc(t('tokens.copy'))}</button></span></div>`;
}

/** Copy buttons (data-copy) inside a root. */
export function wireCopy(root: HTMLElement, done: (message: string) => void): void {
  root.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>('[data-copy]');
    if (!button) return;
    void navigator.clipboard?.writeText(button.dataset.copy ?? '').then(
      () => done(t('tokens.copied')),
      () => {},
    );
  });
}

/** Site checkboxes for the sites this user sees. */
export function siteChecks(name: string, sites: { id: string; name?: LocalText }[], checked: readonly string[] = []): string {
  return `<div class="checks" data-testid="${esc(name)}-sites">${sites
    .map(
      (s) => `<label><input type="checkbox" name="${esc(name)}-site" value="${esc(s.id)}"${checked.includes(s.id) ? ' checked' : ''}> ${esc(named(s))}</label>`,
    )
    .join('')}</div>`;
}

export function checkedValues(root: ParentNode, name: string): string[] {
  return Array.from(root.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)).map((i) => i.value);
}
