/**
 * The ear-tag register as CSV, as the import route reads it; defined in core/config/animals-csv.ts, since the farm
 * file's `animals.registerFile` is read with the config (nothing in core imports a component).
 */
export * from '../core/config/animals-csv.js';
