import type { UserInfoT } from '../../schemas.js';
import { ApiFailure, del, get, put } from '../api.js';
import { esc, toast } from '../dom.js';
import { named, t, tr } from '../i18n.js';
import { findSite, model } from '../state.js';
import { checkedValues, siteChecks } from './tokens.js';
import type { View } from './view.js';

/**
 * Users (admin): who may log in, with which role and which sites. A user limited to sites sees nothing of the
 * others. Click a name to load it into the form; an admin of some sites manages users of those sites only.
 */
function sitesText(sites: string[] | undefined): string {
  return sites ? sites.map((s) => named(findSite(s), s)).join(', ') : t('sites.all');
}

export function usersView(): View {
  let users: UserInfoT[] = [];
  const limited = () => Boolean(model.me?.sites);

  const table = () =>
    users.length === 0
      ? ''
      : `<div class="table-wrap"><table class="table" data-testid="users-table"><thead><tr><th>${esc(t('users.name'))}</th><th>${esc(t('users.role'))}</th><th>${esc(t('users.sites'))}</th><th>${esc(t('users.source'))}</th><th></th></tr></thead><tbody>${users
          .map(
            (
              u,
            ) => `<tr data-testid="user-row" data-user="${esc(u.name)}"><td><a href="#/users" data-edit="${esc(u.name)}">${esc(u.name)}</a></td><td>${esc(tr('role', u.role))}</td><td data-testid="user-sites">${esc(sitesText(u.sites))}</td><td>${esc(tr('users.source', u.source))}</td>
              <td>${u.name === model.me?.user ? '' : `<button type="button" data-remove="${esc(u.name)}" data-testid="remove-user">${esc(t('users.remove'))}</button>`}</td></tr>`,
          )
          .join('')}</tbody></table></div>`;

  async function load(root: HTMLElement): Promise<void> {
    users = (await get<{ users: UserInfoT[] }>('/api/users')).users;
    const slot = root.querySelector<HTMLElement>('[data-slot="users"]');
    if (slot) slot.innerHTML = table();
  }

  return {
    sites: () => [],
    async render(root) {
      root.innerHTML = `<h1 class="view-title">${esc(t('users.title'))}</h1>
        <section class="card"><div data-slot="users"><p class="muted">${esc(t('common.loading'))}</p></div></section>
        <section class="card"><h2>${esc(t('users.edit'))}</h2>
          <form class="form-grid" data-testid="user-form" autocomplete="off">
            <label>${esc(t('users.name'))}<input name="name" required pattern="[A-Za-z0-9_.\\-]{1,64}" data-testid="user-name"></label>
            <label>${esc(t('users.role'))}<select name="role" data-testid="user-role">${['viewer', 'operator', 'admin'].map((r) => `<option value="${r}">${esc(tr('role', r))}</option>`).join('')}</select></label>
            <label>${esc(t('users.password'))}<input name="password" type="password" minlength="10" autocomplete="new-password" data-testid="user-password"></label>
            <div><span class="muted">${esc(t('users.sites'))} · ${esc(t('users.sitesHelp'))}</span>${siteChecks('user', model.sites)}</div>
            <div><button type="submit" data-testid="user-save">${esc(t('users.save'))}</button></div>
          </form>
        </section>`;
      const form = root.querySelector<HTMLFormElement>('form')!;
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const name = String(data.get('name'));
        const sites = checkedValues(form, 'user-site');
        const password = String(data.get('password') ?? '');
        // Nothing ticked: every site (an admin of every site), or the admin's own sites (a limited admin).
        const body = {
          role: String(data.get('role')),
          ...(password ? { password } : {}),
          ...(sites.length > 0 ? { sites } : limited() ? {} : { sites: null }),
        };
        try {
          await put(`/api/users/${encodeURIComponent(name)}`, body);
          toast(t('users.saved', { name }), 'info');
          form.reset();
          await load(root);
        } catch (err) {
          toast(t('common.error', { msg: err instanceof ApiFailure ? err.message : String(err) }));
        }
      });
      root.addEventListener('click', async (event) => {
        const target = event.target as HTMLElement;
        const edit = target.closest<HTMLElement>('[data-edit]')?.dataset.edit;
        if (edit) {
          event.preventDefault();
          const u = users.find((x) => x.name === edit);
          form.querySelector<HTMLInputElement>('[name="name"]')!.value = edit;
          form.querySelector<HTMLSelectElement>('[name="role"]')!.value = u?.role ?? 'viewer';
          for (const box of Array.from(form.querySelectorAll<HTMLInputElement>('input[name="user-site"]')))
            box.checked = Boolean(u?.sites?.includes(box.value));
        }
        const remove = target.closest<HTMLElement>('[data-remove]')?.dataset.remove;
        if (remove && confirm(t('users.confirmRemove', { name: remove }))) {
          await del(`/api/users/${encodeURIComponent(remove)}`).then(
            () => toast(t('users.removed', { name: remove }), 'info'),
            (err: Error) => toast(t('common.error', { msg: err.message })),
          );
          await load(root);
        }
      });
      await load(root);
    },
  };
}
