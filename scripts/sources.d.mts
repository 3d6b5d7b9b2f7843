export const SERVER_DIRS: string[];
export const BUILD_STAMP: string;
export function isServerSource(file: string): boolean;
export function isStaticAsset(file: string): boolean;
export function isBuildInput(file: string): boolean;
export function newestSource(root: string): number;
export function staleReason(root: string): string | undefined;
