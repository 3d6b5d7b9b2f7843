import { isMap, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';

/**
 * Edits of a YAML text that leave every byte outside the edit as it was: the yaml package's own
 * `doc.toString()` re-renders the whole file (`[a, b]` became `[ a, b ]`, blank lines and some comments
 * moved), so provisioning one device rewrote dozens of unrelated lines. Here the parsed document only
 * says WHERE things are (each node's source range); the change is a text insertion or a replacement of one
 * key-value pair, written in the style of its neighbours (flow `{ ... }` items or block lines).
 */
export type Plain = string | number | boolean | Plain[] | { [key: string]: Plain | undefined };

export interface TextEdit {
  /** Offset in the original text. */
  at: number;
  /** How many characters of the original text are replaced (0: an insertion). */
  remove: number;
  insert: string;
}

export function applyEdit(text: string, edit: TextEdit): string {
  return text.slice(0, edit.at) + edit.insert + text.slice(edit.at + edit.remove);
}

/** A scalar as YAML: ids and words plain, anything that could be read otherwise double-quoted (JSON is valid YAML). */
export function scalar(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  // Words, spaces, / . _ - read back as the same string (no `: `, ` #`, leading indicator or number look-alike).
  return /^[A-Za-z][A-Za-z0-9 /._-]*[A-Za-z0-9]$|^[a-z0-9][a-z0-9_-]*$/.test(value) && !/^(true|false|yes|no|on|off|null|y|n|[0-9.e+-]+)$/i.test(value)
    ? value
    : JSON.stringify(value);
}

/** `{ id: x, metrics: [a, b] }`: one line, as the demo farm writes devices. */
export function flowText(value: Plain): string {
  if (Array.isArray(value)) return `[${value.map(flowText).join(', ')}]`;
  if (typeof value === 'object') {
    const pairs = Object.entries(value).filter(([, v]) => v !== undefined) as [string, Plain][];
    return `{ ${pairs.map(([k, v]) => `${k}: ${flowText(v)}`).join(', ')} }`;
  }
  return scalar(value);
}

/**
 * Block lines of a map (without the leading `- ` or indentation of its first line): nested sequences of maps are
 * written in `itemStyle` (flow items like the file's other devices, or block items).
 */
const isMapValue = (v: Plain | undefined): v is { [key: string]: Plain | undefined } => typeof v === 'object' && !Array.isArray(v);
const holdsMaps = (v: Plain | undefined) => Array.isArray(v) && v.some(isMapValue);

export function blockMapLines(value: { [key: string]: Plain | undefined }, itemStyle: 'flow' | 'block'): string[] {
  const lines: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && holdsMaps(v)) {
      lines.push(`${key}:`);
      // A site's zones hold devices: block lines down to the innermost maps, which take itemStyle.
      for (const item of v)
        lines.push(...seqItemLines(item, isMapValue(item) && Object.values(item).some(holdsMaps) ? 'block' : itemStyle, itemStyle).map((l) => `  ${l}`));
    } else lines.push(`${key}: ${flowText(v)}`);
  }
  return lines;
}

/** `- { ... }`, or `- id: x` with the rest of the map indented under it. */
export function seqItemLines(value: Plain, style: 'flow' | 'block', nested: 'flow' | 'block' = style): string[] {
  if (style === 'flow' || typeof value !== 'object' || Array.isArray(value)) return [`- ${flowText(value)}`];
  const [first, ...rest] = blockMapLines(value, nested);
  return [`- ${first}`, ...rest.map((l) => `  ${l}`)];
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineEnd(text: string, offset: number): number {
  const i = text.indexOf('\n', offset);
  return i < 0 ? text.length : i;
}

/** Where a node ends in the text: its value, not the comments or blank lines the parser counts after it. */
function valueEnd(node: Node): number {
  return node.range![1];
}

/** The end of the line a node's value ends on (a block scalar's value already ends with its newline). */
function endOfLastLine(text: string, node: Node): number {
  const end = valueEnd(node);
  return text[end - 1] === '\n' ? end - 1 : lineEnd(text, end);
}

/**
 * The text that appends `item` to a sequence, in the sequence's own style: before `]` of a flow sequence, or as
 * a new line after the last item of a block sequence, at that item's indentation, written as `itemStyle` with
 * sequences inside it as `nested` (a zone in block lines, its devices as `{ ... }` like the file's others).
 */
export function appendToSeq(text: string, seq: YAMLSeq, item: Plain, itemStyle: 'flow' | 'block', nested: 'flow' | 'block' = itemStyle): TextEdit {
  const [start] = seq.range!;
  if (seq.flow) {
    const last = seq.items.at(-1) as Node | undefined;
    if (!last) return { at: text.indexOf('[', start) + 1, remove: 0, insert: flowText(item) };
    return { at: valueEnd(last), remove: 0, insert: `, ${flowText(item)}` };
  }
  const first = seq.items[0] as Node;
  const last = seq.items.at(-1) as Node;
  // The `- ` of the first item gives the indentation (the node's range starts after it).
  const dash = text.slice(lineStart(text, first.range![0]), first.range![0]);
  const indent = /^(\s*)-\s+/.exec(dash)?.[1] ?? ' '.repeat(Math.max(0, first.range![0] - lineStart(text, first.range![0]) - 2));
  const at = endOfLastLine(text, last);
  const lines = seqItemLines(item, itemStyle, nested).map((l) => `${indent}${l}`);
  return { at, remove: 0, insert: `\n${lines.join('\n')}` };
}

/** Adds `key: value` to a map that does not have the key: before `}` of a flow map, or as a line after its last pair. */
export function addPair(text: string, map: YAMLMap, key: string, value: Plain, itemStyle: 'flow' | 'block'): TextEdit {
  const last = map.items.at(-1) as Pair<Node, Node> | undefined;
  if (map.flow) {
    if (!last) return { at: text.indexOf('{', map.range![0]) + 1, remove: 0, insert: ` ${key}: ${flowText(value)} ` };
    return { at: valueEnd(last.value ?? last.key), remove: 0, insert: `, ${key}: ${flowText(value)}` };
  }
  const firstKey = (map.items[0] as Pair<Node, Node>).key;
  const indent = ' '.repeat(firstKey.range![0] - lineStart(text, firstKey.range![0]));
  const lines = blockMapLines({ [key]: value }, itemStyle).map((l) => `${indent}${l}`);
  return { at: endOfLastLine(text, last!.value ?? last!.key), remove: 0, insert: `\n${lines.join('\n')}` };
}

/** Replaces the pair named one of `oldKeys` (key and value) by `key: value`, or adds it when the map has none of them. */
export function replacePair(text: string, map: YAMLMap, oldKeys: string[], key: string, value: string): TextEdit {
  const pair = map.items.find((p) => isScalar(p.key) && oldKeys.includes(String(p.key.value))) as Pair<Node, Node> | undefined;
  if (!pair) return addPair(text, map, key, value, 'flow');
  const from = pair.key.range![0];
  const to = valueEnd(pair.value ?? pair.key);
  return { at: from, remove: to - from, insert: `${key}: ${flowText(value)}` };
}

/** A top-level key the file does not have yet, appended at the end as a block sequence with one item. */
export function appendTopLevelSeq(text: string, key: string, item: Plain, itemStyle: 'flow' | 'block'): TextEdit {
  const sep = text.length === 0 || text.endsWith('\n') ? '' : '\n';
  return {
    at: text.length,
    remove: 0,
    insert: `${sep}${key}:\n${seqItemLines(item, itemStyle)
      .map((l) => `  ${l}`)
      .join('\n')}\n`,
  };
}

/** The map in `seq` whose `key` is `value`. */
export function findIn(seq: unknown, value: string, key = 'id'): YAMLMap | undefined {
  if (!isSeq(seq)) return undefined;
  return seq.items.find((item): item is YAMLMap => isMap(item) && item.get(key) === value);
}

/** Whether the file writes its devices as one-line flow maps (`- { id: ... }`), as the demo farm does. */
export function deviceStyle(doc: Document): 'flow' | 'block' {
  const sites = doc.get('sites');
  if (!isSeq(sites)) return 'flow';
  for (const site of sites.items) {
    const zones = isMap(site) ? site.get('zones') : undefined;
    if (!isSeq(zones)) continue;
    for (const zone of zones.items) {
      const devices = isMap(zone) ? zone.get('devices') : undefined;
      if (isSeq(devices) && isMap(devices.items[0])) return devices.items[0].flow ? 'flow' : 'block';
    }
  }
  return 'flow';
}
