import type { Change } from '../state.js';

/** A screen of the page: renders into the main element, says which sites' live events it needs. */
export interface View {
  /** Site ids whose live events the view shows (the socket joins exactly these). */
  sites(): string[];
  render(root: HTMLElement): void | Promise<void>;
  onChange?(change: Change, root: HTMLElement): void;
  dispose?(): void;
}
