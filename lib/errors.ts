/** Error class for everything h5stitch throws on purpose; `code` is stable. */
export class H5StitchError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'H5StitchError';
    this.code = code;
  }
}

/** Invalid user input: reported as one line, exit code 2. */
export class UsageError extends H5StitchError {
  constructor(message: string) {
    super('ERR_USAGE', message);
    this.name = 'UsageError';
  }
}

/** "Expected X for Y but received Z" — the form every argument check uses. */
export function expected(what: string, name: string, received: unknown): TypeError {
  return new TypeError(`Expected ${what} for ${name} but received ${describe(received)}`);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string "${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  if (Array.isArray(value)) return 'array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}
