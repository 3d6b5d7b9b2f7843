/**
 * The rule language, as the rules engine reads it. It is defined with the farm file's schema in
 * core/config/rules.ts (core owns the config, and nothing in core imports a component); this module keeps the
 * engine's imports where they were.
 */
export * from '../core/config/rules.js';
