import type { MeT } from '../../schemas.js';
import { ApiFailure, post } from '../api.js';
import { esc } from '../dom.js';
import { t } from '../i18n.js';
import type { View } from './view.js';

/** The login form; the only view reachable without a session. */
export function loginView(onLoggedIn: (me: MeT) => void): View {
  return {
    sites: () => [],
    render(root) {
      root.innerHTML = `<form class="card login" data-testid="login-form" autocomplete="on">
          <h1>${esc(t('login.title'))}</h1>
          <label>${esc(t('login.username'))}<input name="username" autocomplete="username" required data-testid="login-username"></label>
          <label>${esc(t('login.password'))}<input name="password" type="password" autocomplete="current-password" required data-testid="login-password"></label>
          <p class="error" data-testid="login-error" hidden></p>
          <button type="submit" data-testid="login-submit">${esc(t('login.submit'))}</button>
        </form>`;
      const form = root.querySelector('form')!;
      const error = root.querySelector<HTMLElement>('.error')!;
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        try {
          const me = await post<MeT>('/api/login', { username: String(data.get('username')), password: String(data.get('password')) }, { quiet401: true });
          onLoggedIn(me);
        } catch (err) {
          const retry = err instanceof ApiFailure && err.status === 429 ? (err.body?.message.match(/(\d+) s/)?.[1] ?? '60') : undefined;
          error.textContent = retry
            ? t('login.tooMany', { s: retry })
            : err instanceof ApiFailure && err.status === 401
              ? t('login.failed')
              : t('common.error', { msg: (err as Error).message });
          error.hidden = false;
        }
      });
      root.querySelector<HTMLInputElement>('input[name=username]')?.focus();
    },
  };
}
