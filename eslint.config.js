import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** An import pattern group per folder a layer must not reach into, each with the reason. */
function forbiddenFolders(layer, folders, why) {
  return folders.map((folder) => ({
    group: [`**/${folder}`, `**/${folder}/**`],
    message: `${layer}/ never imports from ${folder}/: ${why}`,
  }));
}

const ENGINE_IS_NEUTRAL = 'the engine is shared by every front end and depends on none of them.';
const FRONT_ENDS_APART = 'each front end talks to the engine in core/ only.';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'action/dist/', '.cache/', 'coverage/', 'cdk.out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
  },
  {
    // Type-aware rules, on the TypeScript that tsconfig.json covers: a promise nobody awaits loses
    // its error (an unhandled rejection, a cleanup that runs after the job reported, a test's
    // `expect(...).rejects` that never asserts). Tests included: that last one is a test defect.
    // One program from tsconfig.json (`project`) lints faster here than `projectService`.
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      // The engine speaks through its Logger (core/log.ts), which each front end routes.
      'no-console': 'error',
      // The engine stays front-end neutral: no runner or Lambda types, nothing of a front end or test.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@actions/*', 'aws-lambda', 'aws-lambda/*', '@types/aws-lambda'],
              message: `core/ never imports runner or Lambda types: ${ENGINE_IS_NEUTRAL}`,
            },
            ...forbiddenFolders('core', ['action', 'lambda', 'infra', 'scripts', 'test'], ENGINE_IS_NEUTRAL),
          ],
        },
      ],
    },
  },
  {
    // The S3 SDK costs a tenth of a second to evaluate: a run that never touches S3 must not pay it.
    // Its values come through core/storage/aws-sdk.ts, which loads them on a bucket's first use.
    files: ['core/**/*.ts', 'lambda/**/*.ts', 'action/**/*.ts'],
    ignores: ['core/storage/aws-sdk-values.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'],
              allowTypeImports: true,
              message:
                'take S3 SDK values from awsSdk() (core/storage/aws-sdk.ts): a static import loads the SDK into every run',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['action/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: forbiddenFolders('action', ['lambda', 'infra'], FRONT_ENDS_APART) },
      ],
    },
  },
  {
    files: ['lambda/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: forbiddenFolders('lambda', ['action', 'infra'], FRONT_ENDS_APART) },
      ],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
