import type { AlertEvent, Command, DeviceRef } from '../core/domain.js';
import { formatDuration } from '../core/duration.js';
import { ppmToMgM3 } from '../core/gas-units.js';
import { alertTopic } from '../core/topics.js';
import { hold, noteHolders, release, type LedgerEntry } from './actuators.js';
import type { Actuation } from './actuation.js';
import type { CommandReason, Holder } from './holders.js';
import { alertFor, changeLevel, clear, formatMessage, raise, systemFacts, type AlertFacts } from './alerts.js';
import { SYSTEM_ACTUATOR, systemOwner, type EngineContext } from './context.js';
import { currentEffect, type RuleEffect, type RuleState } from './evaluate.js';
import type { NotifyTarget } from './notify.js';
import type { ActuateActionT, RuleT } from './schema.js';
import { levelName } from '../core/level-names.js';
import { clearedZh, durationZh, systemTextZh } from './system-text.js';
import { metricName } from '../core/metric-names.js';
import { localText, mapLocalText, type Language, type LocalText } from '../core/local-text.js';

/**
 * Carries out what the evaluator decided: holds and releases actuators (then commands them when the
 * ledger says so), raises / escalates / clears alerts, publishes and stores them, posts webhooks.
 */
export interface Carrier {
  onEffect(st: RuleState, e: RuleEffect): void;
  /** Takes or drops the instance's holds without commanding yet; the caller settles the returned entries. */
  hold(st: RuleState, now: number): Set<LedgerEntry>;
  release(st: RuleState): Set<LedgerEntry>;
  /** See Actuation.settle: floors re-decided, commands sent, changes announced. */
  settle: Actuation['settle'];
  raiseAlert(st: RuleState, e: RuleEffect): void;
  /** The rule's condition ended: the cleared event carries the value that ended it and the clearing message. */
  clearAlert(st: RuleState, e: RuleEffect): void;
  emitAlert(event: AlertEvent, targets?: NotifyTarget[]): void;
  /** Clears whatever alert an owner has open (rule removed or changed, restored alert without its rule). */
  /** `note` says why in each language (the Chinese text of the alert gets the Chinese note). */
  closeAlert(owner: string, now: number, note: { en: string; zh: string }): void;
  notifyTargets(ruleId: string): NotifyTarget[];
  /** A place as a Chinese reader is told it (names from the farm file, ids where it has none): for built-in alerts' texts. */
  namesZh(site: string, zone: string, device?: string): Record<'site' | 'zone' | 'device', string>;
  actuatorFailed(ref: DeviceRef, command: Command, attempts: number): void;
  actuatorHeard(device: string, now: number): void;
}

type AlertActionT = Extract<RuleT['actions'][number], { alert: unknown }>['alert'];

/** The changes to settle after a rule's holds moved: every touched actuator, with the rule as the reason. */
export function touchedBy(entries: Iterable<LedgerEntry>, reason: CommandReason): [LedgerEntry, CommandReason][] {
  return [...entries].map((e) => [e, reason]);
}

export function createCarrier(
  ctx: Pick<EngineContext, 'alertLog' | 'book' | 'bus' | 'clock' | 'config' | 'farm' | 'ledger' | 'logger' | 'notifier' | 'options' | 'publish' | 'set'>,
  actuation: Actuation,
): Carrier {
  const alertAction = (def: RuleT): AlertActionT | undefined => def.actions.find((a): a is { alert: AlertActionT } => 'alert' in a)?.alert;
  const targetsOf = (def: RuleT): NotifyTarget[] => def.actions.flatMap((a) => ('notify' in a ? [a.notify] : []));
  const holderOf = (st: RuleState) => ({ kind: 'rule', rule: st.rule.id, instance: st.key }) as const satisfies Holder;

  /** The actuators an instance's actuate actions name: by type within its zone, or by device id anywhere. */
  function targets(st: RuleState): [LedgerEntry, ActuateActionT][] {
    const out: [LedgerEntry, ActuateActionT][] = [];
    for (const a of st.rule.def.actions) {
      if (!('actuate' in a)) continue;
      const devices = a.actuate.device ? [ctx.farm.device(a.actuate.device)] : ctx.farm.actuators(st.site, st.zone, a.actuate.type);
      for (const d of devices) {
        const entry = d?.role === 'actuator' ? ctx.ledger.get(d.device) : undefined;
        if (entry) out.push([entry, a.actuate]);
      }
    }
    return out;
  }

  /**
   * The event's message from the rule's template (or a default), in every language the template has. A clear uses
   * the rule's `clearMessage`, else the raising template filled with the clearing value and marked "cleared: ", so it
   * never repeats the raising value.
   */
  function message(st: RuleState, e: RuleEffect, action: AlertActionT | undefined): Pick<AlertFacts, 'message' | 'messages'> {
    const { def } = st.rule;
    const stale = st.rule.leaves.find((l) => l.kind === 'stale');
    const onlyStale = st.rule.leaves.every((l) => l.kind === 'stale');
    // A rule without a message of its own still speaks both languages (the description is the farm's own words).
    const what = def.description ?? def.id;
    const fallback: LocalText = onlyStale
      ? { en: 'sensor offline: no reading from {device} for {stale}', zh: '传感器离线：{device} 已 {stale} 无读数' }
      : { en: `${what}: {metric} {value}${e.level ? ' ({level})' : ''}`, zh: `${what}：{metric} {value}${e.level ? '（{level}）' : ''}` };
    const raising: LocalText = action?.message ?? fallback;
    let template = raising;
    if (e.kind === 'cleared')
      template =
        action?.clearMessage ??
        (onlyStale
          ? { en: 'cleared: {device} is reporting again', zh: '已解除：{device} 恢复上报' }
          : mapLocalText(raising, (t, lang) => (lang === 'zh-CN' ? `已解除：${t}` : `cleared: ${t}`)));
    const fill = (text: string, names: Record<'level' | 'site' | 'zone' | 'device', string | undefined>, lang: Language) =>
      formatMessage(text, {
        ...names,
        value: e.value,
        metric: e.metric && lang === 'zh-CN' ? metricName(e.metric, lang) : e.metric,
        rule: def.id,
        stale: stale?.kind === 'stale' ? (lang === 'zh-CN' ? durationZh(stale.staleMs) : formatDuration(stale.staleMs)) : undefined,
        mg_m3: e.metric !== undefined && e.metric !== null && e.value !== undefined && e.value !== null ? ppmToMgM3(e.metric, e.value) : undefined,
      });
    // English keeps the ids operators grep logs for; Chinese gets the farm file's names, the grade and the metric in
    // words, so a 中文 message never carries "red", "nh3" or "pipe-05" (notifications to a zh-CN site send this text).
    const ids = { level: e.level, site: st.site, zone: st.zone, device: st.device ?? st.zone };
    if (typeof template === 'string') return { message: fill(template, ids, 'en') };
    const en = fill(template.en, ids, 'en');
    return { message: en, messages: { en, zh: fill(template.zh, namesIn(st, e, 'zh-CN'), 'zh-CN') } };
  }

  /** `{level}`, `{site}`, `{zone}` and `{device}` in a language: names from the farm file, else the ids. */
  function namesIn(st: RuleState, e: RuleEffect, lang: Language): Record<'level' | 'site' | 'zone' | 'device', string | undefined> {
    return { level: e.level ? levelName(e.level, lang) : undefined, ...placeNames(st.site, st.zone, st.device, lang) };
  }

  /** A site, zone and device as people call them in `lang`. */
  function placeNames(siteId: string, zoneId: string, deviceId: string | undefined, lang: Language): Record<'site' | 'zone' | 'device', string> {
    const zone = ctx.farm.zone(siteId, zoneId);
    const zoneName = localText(zone?.config.name, lang) ?? zoneId;
    const device = deviceId ? ctx.farm.device(deviceId) : undefined;
    // A device without a name is called by its zone when it is the zone's only device of its role ("Pipe 05").
    const alone = device && zone ? zone.devices.filter((d) => d.role === device.role).length === 1 : false;
    return {
      site: localText(ctx.config.sites.find((s) => s.id === siteId)?.name, lang) ?? siteId,
      zone: zoneName,
      device: !deviceId ? zoneName : (localText(device?.config.name, lang) ?? (alone ? zoneName : deviceId)),
    };
  }

  /**
   * A built-in alert gets its Chinese text beside the English one (a zh-CN site's notifications send it): written
   * from its detail when raised, kept on the event the book holds (so its acknowledgement carries it), and marked
   * cleared when it clears: the clearing code gives its reason in both languages where it has one (clearedZh keeps
   * such a text; only one without a reason becomes "已解除：" and the raising text).
   */
  function withSystemTexts(event: AlertEvent): void {
    if (!event.rule.startsWith('system:')) return;
    if (event.state === 'raised' && event.detail && !event.messages) {
      const where = placeNames(event.site, event.zone, event.device, 'zh-CN');
      const last = event.detail.kind === 'animal-missing' ? event.detail.last : undefined;
      const lastPlace = last ? placeNames(event.site, last.zone, last.device, 'zh-CN') : undefined;
      const zh = systemTextZh(event.detail, {
        ...where,
        lastReader: lastPlace?.device,
        lastZone: lastPlace?.zone,
        timeZone: ctx.farm.timeZone(event.site),
        now: event.ts,
      });
      event.messages = { en: event.message, zh };
    } else if (event.state === 'cleared' && event.messages) {
      event.messages = { en: event.message, zh: clearedZh(event.messages.zh) };
    }
  }

  /** Appends a note to an alert's text, in each of its languages. */
  function noted(f: Pick<AlertFacts, 'message' | 'messages'>, en: string, zh: string): Pick<AlertFacts, 'message' | 'messages'> {
    return { message: `${f.message} ${en}`, messages: f.messages && { en: `${f.messages.en} ${en}`, zh: `${f.messages.zh}${zh}` } };
  }

  function facts(st: RuleState, e: RuleEffect, action: AlertActionT | undefined): AlertFacts {
    return {
      rule: st.rule.id,
      site: st.site,
      zone: st.zone,
      device: st.device,
      severity: e.severity ?? action?.severity ?? 'info',
      level: e.level ?? null,
      value: e.value ?? null,
      metric: e.metric ?? null,
      ...message(st, e, action),
    };
  }

  /** A rule that only notifies still sends an event shaped like an alert; it is not tracked or stored. */
  function notifyOnly(st: RuleState, e: RuleEffect): void {
    const targets = targetsOf(st.rule.def);
    if (targets.length === 0) return;
    const f = facts(st, e, undefined);
    const state = e.kind === 'fired' ? 'raised' : e.kind === 'cleared' ? 'cleared' : 'escalated';
    const id = `${f.rule}:${f.site}:${f.zone}:${f.device ?? '-'}:${st.since ?? e.ts}`;
    for (const t of targets) ctx.notifier.send(t, { id, ...f, state, ts: e.ts });
  }

  const carrier: Carrier = {
    onEffect(st, e) {
      const reason: CommandReason = { kind: 'rule', rule: st.rule.id };
      // The zone too: a floor may come into force or end with this rule, whatever it actuates itself.
      if (e.kind === 'fired') {
        carrier.settle(touchedBy(carrier.hold(st, e.ts), reason), e.ts, [st]);
        carrier.raiseAlert(st, e);
      } else if (e.kind === 'cleared') {
        carrier.settle(touchedBy(carrier.release(st), reason), e.ts, [st]);
        carrier.clearAlert(st, e);
      } else {
        const action = alertAction(st.rule.def);
        if (!action) return notifyOnly(st, e);
        const up = e.kind === 'escalated';
        let f = facts(st, e, action);
        if (e.level)
          f = {
            ...f,
            ...(up
              ? noted(f, `(escalated to ${e.level})`, `（升级为${levelName(e.level, 'zh-CN')}）`)
              : noted(f, `(de-escalated to ${e.level})`, `（降级为${levelName(e.level, 'zh-CN')}）`)),
          };
        const event = changeLevel(ctx.book, st.key, f, up, e.ts);
        if (event) carrier.emitAlert(event, targetsOf(st.rule.def));
      }
    },

    hold(st, now) {
      const { def } = st.rule;
      const touched = new Set<LedgerEntry>();
      // What fired it: the sub-condition the firing reported (or, for an instance adopted after a restart or a
      // rule edit, its value now), for the "why is this on?" answer.
      const fired = currentEffect(st, 'fired', now);
      const facts = { since: st.since ?? now, sensor: st.device, metric: fired.metric ?? null, reading: fired.value ?? null };
      for (const [entry, act] of targets(st)) {
        hold(entry, { ...holderOf(st), ...facts, want: { action: act.action, value: act.value, minOnMs: def.minOn, minOffMs: def.minOff } });
        noteHolders(entry);
        touched.add(entry);
      }
      return touched;
    },

    release(st) {
      const touched = new Set<LedgerEntry>();
      for (const [entry] of targets(st)) if (release(entry, holderOf(st))) touched.add(entry);
      return touched;
    },

    settle: (changes, now, zones) => actuation.settle(changes, now, zones),

    raiseAlert(st, e) {
      const action = alertAction(st.rule.def);
      if (!action) return notifyOnly(st, e);
      if (alertFor(ctx.book, st.key)) return;
      carrier.emitAlert(raise(ctx.book, st.key, facts(st, e, action), e.ts), targetsOf(st.rule.def));
    },

    clearAlert(st, e) {
      const action = alertAction(st.rule.def);
      if (!action) return notifyOnly(st, e);
      const open = alertFor(ctx.book, st.key);
      if (!open) return;
      const f = facts(st, e, action);
      // A graded alert keeps its last level (it says what cleared); severity stays what was raised.
      const event = clear(ctx.book, st.key, { value: f.value, metric: f.metric, message: f.message, messages: f.messages }, e.ts);
      if (event) carrier.emitAlert(event, targetsOf(st.rule.def));
    },

    emitAlert(event, targets = []) {
      withSystemTexts(event);
      try {
        ctx.bus.emit('alert', event);
      } catch (err) {
        ctx.logger.error({ err }, 'an alert listener failed');
      }
      const payload = JSON.stringify(event);
      ctx
        .publish(alertTopic(ctx.options.topicRoot, event.site, event.zone), payload, { qos: 1 })
        .catch((err: Error) => ctx.logger.warn({ alert: event.id, err: err.message }, 'publishing an alert failed'));
      ctx.alertLog.push(event);
      for (const t of targets) ctx.notifier.send(t, event);
    },

    closeAlert(owner, now, note) {
      const open = alertFor(ctx.book, owner);
      // No reading ended it, so there is no clearing value to report.
      const text = open && {
        message: `cleared: ${open.message} (${note.en})`,
        messages: open.messages && { en: `cleared: ${open.messages.en} (${note.en})`, zh: `已解除：${open.messages.zh}（${note.zh}）` },
      };
      const event = open && clear(ctx.book, owner, { value: null, metric: null, ...text }, now);
      if (event) carrier.emitAlert(event, carrier.notifyTargets(event.rule));
    },

    notifyTargets(ruleId) {
      const rule = ctx.set.rule(ruleId);
      return rule ? targetsOf(rule.def) : [];
    },

    actuatorFailed(ref, command, attempts) {
      const owner = systemOwner.actuator(ref.device);
      if (alertFor(ctx.book, owner)) return;
      const message = `actuator not responding: ${ref.device} did not acknowledge "${command.action}" after ${attempts} attempts`;
      const now = ctx.clock.now();
      carrier.emitAlert(
        raise(
          ctx.book,
          owner,
          systemFacts({
            rule: SYSTEM_ACTUATOR,
            site: ref.site,
            zone: ref.zone,
            device: ref.device,
            severity: 'critical',
            message,
            detail: { kind: 'actuator', action: command.action, ...(command.value !== undefined ? { value: command.value } : {}), attempts },
          }),
          now,
        ),
      );
    },

    actuatorHeard(device, now) {
      const d = ctx.farm.device(device);
      const name = d ? placeNames(d.site, d.zone, device, 'zh-CN').device : device;
      const message = `cleared: ${device} is responding again`;
      const event = clear(ctx.book, systemOwner.actuator(device), { message, messages: { en: message, zh: `已解除：${name} 恢复响应` } }, now);
      if (event) carrier.emitAlert(event);
    },

    namesZh: (site, zone, device) => placeNames(site, zone, device, 'zh-CN'),
  };
  return carrier;
}
