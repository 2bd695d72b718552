export default async function globalTeardown() {
  await globalThis.__pgferryLifecycle?.globalTeardown();
}
