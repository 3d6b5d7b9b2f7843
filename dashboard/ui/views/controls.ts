import { esc, fmtClock } from '../dom.js';
import { fmtDuration } from '../alert-text.js';
import { currentLang, t, type MessageKey } from '../i18n.js';
import { deviceEntry } from '../state.js';

/**
 * Actuator controls that say what they will do before they do it. A command in auto mode is a hold with an end
 * (SPEC: `forMinutes`, else the farm's operatorHold, 30 min): the panel says "a rule will take it back at 14:30"
 * and lets the operator choose how long, preset to the farm's operatorHold. In manual mode nothing takes it back, and the panel says so. Manual mode
 * itself is asked for with a duration. A value to set is checked here (a whole 0-100 %) before anything is sent.
 */
const HOLD_CHOICES = [30, 60, 120, 240, 480] as const;
const MANUAL_CHOICES = [60, 240, 480, 1440, 0] as const; // 0: until switched back
/** The farm file's operatorHold, which a command without an end gets from the server: the choice made for you. */
const defaultHoldMin = (device: string) => Math.round((deviceEntry(device)?.site.operatorHoldMs ?? 30 * 60_000) / 60_000);
const holdChoices = (preset: number) => [...new Set([preset, ...HOLD_CHOICES])].sort((a, b) => a - b);
const durationText = (minutes: number) => (DURATION_KEY[minutes] ? t(DURATION_KEY[minutes]) : fmtDuration(minutes * 60_000));
const DURATION_KEY: Record<number, MessageKey> = { 30: 'dur.30m', 60: 'dur.1h', 120: 'dur.2h', 240: 'dur.4h', 480: 'dur.8h', 1440: 'dur.24h' };

export type ControlRequest =
  | { kind: 'command'; device: string; action: 'on' | 'off' | 'set'; value?: number; forMinutes?: number }
  | { kind: 'mode'; device: string; mode: 'auto' | 'manual'; forMinutes?: number };

function card(device: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-bind="actuator"][data-device="${CSS.escape(device)}"]`);
}

function panelOf(device: string): HTMLElement | null {
  return card(device)?.querySelector<HTMLElement>('[data-part="panel"]') ?? null;
}

export function closePanel(device: string): void {
  const panel = panelOf(device);
  if (panel) {
    panel.hidden = true;
    panel.innerHTML = '';
  }
}

/** A whole number 0-100, or the reason it is not (shown under the input, nothing is sent). */
export function checkPercent(raw: string): number | undefined {
  if (!/^\s*\d{1,3}\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 0 && n <= 100 ? n : undefined;
}

function whatText(action: string, value?: number): string {
  return action === 'set' ? t('hold.what.set', { value: String(value) }) : t(`state.${action}` as MessageKey);
}

function endsAt(minutes: number, device: string): string {
  const zone = deviceEntry(device)?.site.timeZone;
  return fmtClock(Date.now() + minutes * 60_000, currentLang(), zone);
}

function showInputError(device: string, message: string | undefined): boolean {
  const el = card(device)?.querySelector<HTMLElement>('[data-part="input-error"]');
  const input = card(device)?.querySelector<HTMLInputElement>('input[type=number]');
  if (el) {
    el.hidden = message === undefined;
    el.textContent = message ?? '';
  }
  input?.setAttribute('aria-invalid', String(message !== undefined));
  return message === undefined;
}

/** On / Off / Set: checks the value and opens the confirmation with what will happen and for how long. */
export function askCommand(button: HTMLElement): void {
  const device = button.dataset.device!;
  const action = button.dataset.cmd as 'on' | 'off' | 'set';
  const entry = deviceEntry(device);
  const panel = panelOf(device);
  if (!entry?.device.actuator || !panel) return;
  let value: number | undefined;
  if (action === 'set') {
    const input = card(device)?.querySelector<HTMLInputElement>('input[type=number]');
    value = checkPercent(input?.value ?? '');
    if (!showInputError(device, value === undefined ? t('cmd.valueRange') : undefined)) return void input?.focus();
  } else showInputError(device, undefined);
  const name = card(device)?.dataset.name ?? device;
  const what = whatText(action, value);
  const auto = entry.device.actuator.mode === 'auto';
  const id = esc(device);
  const preset = defaultHoldMin(device);
  const choices = holdChoices(preset)
    .map((m) => `<option value="${m}"${m === preset ? ' selected' : ''}>${esc(durationText(m))}</option>`)
    .join('');
  panel.innerHTML = `<p class="cmd-title"><b>${esc(t('cmd.title', { device: name, what }))}</b></p>
    ${
      auto
        ? `<label class="cmd-hold">${esc(t('cmd.holdFor'))} <select data-part="hold-for" data-testid="actuator-${id}-hold-for">${choices}</select></label>
           <p class="cmd-note" data-part="note" data-testid="actuator-${id}-note">${esc(t('cmd.holdNote', { until: endsAt(preset, device) }))}</p>`
        : `<p class="cmd-note" data-part="note" data-testid="actuator-${id}-note">${esc(t('cmd.manualNote', { what: action === 'set' ? what : t(`hold.what.${action}`) }))}</p>`
    }
    <div class="cmd-buttons">
      <button type="button" class="primary" data-action="command" data-cmd="${esc(action)}" data-device="${id}"${value !== undefined ? ` data-value="${value}"` : ''} data-testid="actuator-${id}-confirm">${esc(t('cmd.confirm', { what }))}</button>
      <button type="button" data-action="cancel" data-device="${id}" data-testid="actuator-${id}-cancel">${esc(t('cmd.cancel'))}</button>
    </div>`;
  panel.hidden = false;
  const select = panel.querySelector<HTMLSelectElement>('select');
  select?.addEventListener('change', () => {
    const note = panel.querySelector<HTMLElement>('[data-part="note"]');
    if (note) note.textContent = t('cmd.holdNote', { until: endsAt(Number(select.value), device) });
  });
  panel.querySelector<HTMLButtonElement>('button.primary')?.focus();
}

/** Auto → manual asks how long (and says when the rules take it back); manual → auto goes at once. */
export function askMode(button: HTMLElement): ControlRequest | undefined {
  const device = button.dataset.device!;
  if (button.dataset.to === 'auto') return { kind: 'mode', device, mode: 'auto' };
  const panel = panelOf(device);
  if (!panel) return undefined;
  const id = esc(device);
  const name = card(device)?.dataset.name ?? device;
  const choices = MANUAL_CHOICES.map(
    (m) => `<option value="${m}"${m === 60 ? ' selected' : ''}>${esc(m === 0 ? t('cmd.manualUntilBack') : t(DURATION_KEY[m]))}</option>`,
  ).join('');
  panel.innerHTML = `<p class="cmd-title"><b>${esc(t('cmd.manualConfirm', { device: name }))}</b></p>
    <label class="cmd-hold">${esc(t('cmd.manualFor'))} <select data-part="manual-for" data-testid="actuator-${id}-manual-for">${choices}</select></label>
    <p class="cmd-note" data-part="note" data-testid="actuator-${id}-note">${esc(t('cmd.manualEnds', { until: endsAt(60, device) }))}</p>
    <div class="cmd-buttons">
      <button type="button" class="primary" data-action="mode" data-to="manual" data-device="${id}" data-testid="actuator-${id}-mode-confirm">${esc(t('cmd.manualConfirm', { device: name }))}</button>
      <button type="button" data-action="cancel" data-device="${id}" data-testid="actuator-${id}-cancel">${esc(t('cmd.cancel'))}</button>
    </div>`;
  panel.hidden = false;
  const select = panel.querySelector<HTMLSelectElement>('select')!;
  select.addEventListener('change', () => {
    const note = panel.querySelector<HTMLElement>('[data-part="note"]');
    const m = Number(select.value);
    if (note) note.textContent = m === 0 ? t('cmd.manualNote', { what: t('mode.manual') }) : t('cmd.manualEnds', { until: endsAt(m, device) });
  });
  select.focus();
  return undefined;
}

/** The request a confirm button stands for, with the duration chosen in its panel. */
export function confirmed(button: HTMLElement): ControlRequest {
  const device = button.dataset.device!;
  const panel = panelOf(device);
  if (button.dataset.action === 'mode') {
    const m = Number(panel?.querySelector<HTMLSelectElement>('[data-part="manual-for"]')?.value ?? 0);
    return { kind: 'mode', device, mode: 'manual', ...(m > 0 ? { forMinutes: m } : {}) };
  }
  const hold = panel?.querySelector<HTMLSelectElement>('[data-part="hold-for"]');
  const value = button.dataset.value === undefined ? undefined : Number(button.dataset.value);
  return {
    kind: 'command',
    device,
    action: button.dataset.cmd as 'on' | 'off' | 'set',
    ...(value !== undefined ? { value } : {}),
    ...(hold ? { forMinutes: Number(hold.value) } : {}),
  };
}
