/** "Name CODE" of what `fn` throws ("NO_ERROR" when it returns): argument checks compared in one table. */
export function errorCodeOf(fn: () => void): string {
  try {
    fn();
    return 'NO_ERROR';
  } catch (e) {
    return `${(e as Error).name} ${(e as { code?: string }).code}`;
  }
}
