/** quickselect 2 (CommonJS; it ships no types): rearranges `arr` so arr[k] is its k-th smallest, smaller ones before, larger after. */
declare module 'quickselect' {
  function quickselect<T>(arr: { [i: number]: T; length: number }, k: number, left?: number, right?: number, compare?: (a: T, b: T) => number): void;
  export = quickselect;
}
