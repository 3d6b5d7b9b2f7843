// npm run lint: typescript-eslint with type information (flat config). The rules chosen catch bugs, not style:
// promises nobody awaits or handles, promises passed where a plain callback is expected, `any` leaking from JSON or
// a library into typed code, unused code, assertions and conditions that do nothing.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-artifacts/', 'bench-results/', 'data/', '.tmp/', 'mosquitto/generated/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_name` marks what is left out on purpose (a destructured secret, a callback's unused argument).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `ok && act()` and `cond ? a() : b()` as statements are deliberate here.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      // Handlers are async to match an interface (fastify routes, handles that may answer later) without awaiting.
      '@typescript-eslint/require-await': 'off',
      // Components are factories returning objects of closures (no classes, no `this`): a method taken off its
      // handle is safe, and the rule only sees the interface's method syntax.
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Tests and the bench harness read answers as the wire gives them (`await res.json()` is any) and assert on or
    // report their content: the unsafe-any rules would only add casts. The promise rules stay: a test that forgets an
    // await passes without testing.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The page: DOM listeners are async functions that report their own failures (a toast, the form's error
    // line), and FormData.get() reads text inputs only. The server code keeps both rules.
    files: ['dashboard/ui/**/*.ts'],
    rules: {
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
);
