// Races scripted without sleeps: another request's work runs at a chosen point of this one, by
// wrapping the next call of one method (the real method still runs; later calls are untouched).

type AsyncMethod = (...args: never[]) => Promise<unknown>;
type AsyncKeys<T> = { [K in keyof T]: T[K] extends AsyncMethod ? K : never }[keyof T];

function wrapNextCall<T extends object, K extends AsyncKeys<T>>(
  object: T,
  method: K,
  run: (real: () => Promise<unknown>) => Promise<unknown>,
): jest.SpyInstance {
  const fn = object[method] as AsyncMethod;
  const spy = jest.spyOn(object, method as never) as jest.SpyInstance;
  return spy.mockImplementationOnce((...args: never[]) => run(() => fn.apply(object, args)));
}

/** The next call of `object[method]` runs `meanwhile` first, then the real method. */
export function beforeNextCall<T extends object, K extends AsyncKeys<T>>(
  object: T,
  method: K,
  meanwhile: () => Promise<unknown>,
): jest.SpyInstance {
  return wrapNextCall(object, method, async (real) => {
    await meanwhile();
    return real();
  });
}

/**
 * The next call of `object[method]` runs the real method, then `meanwhile`, and answers what the
 * real method answered: as if another request wrote just after this one's read or write.
 */
export function afterNextCall<T extends object, K extends AsyncKeys<T>>(
  object: T,
  method: K,
  meanwhile: () => Promise<unknown>,
): jest.SpyInstance {
  return wrapNextCall(object, method, async (real) => {
    const answer = await real();
    await meanwhile();
    return answer;
  });
}
