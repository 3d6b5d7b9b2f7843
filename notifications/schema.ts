/**
 * The `channels` and `notifications` sections of the farm file, as the notifications component reads them; defined
 * with the farm file's schema in core/config/notifications.ts (nothing in core imports a component).
 */
export * from '../core/config/notifications.js';
