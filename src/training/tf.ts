import type * as TfModule from '@tensorflow/tfjs';

export type Tf = typeof TfModule;
export type TfBackend = 'tfjs-node' | 'tfjs';

export interface LoadedTf {
  readonly tf: Tf;
  /** Which package answered: recorded in every bundle manifest. */
  readonly backend: TfBackend;
}

let loaded: Promise<LoadedTf> | undefined;

/**
 * The native binding is an optional dependency (it downloads libtensorflow at install time, which
 * some sites cannot do); the pure-JS package has the same API, only slower.
 */
export function loadTf(options: { preferNative?: boolean } = {}): Promise<LoadedTf> {
  loaded ??= (async (): Promise<LoadedTf> => {
    if (options.preferNative !== false) {
      const nativeName = '@tensorflow/tfjs-node';
      try {
        const native = (await import(nativeName)) as unknown as Tf;
        await native.ready();
        return { tf: native, backend: 'tfjs-node' };
      } catch {
        // fall through to the pure-JS package
      }
    }
    const pure = await import('@tensorflow/tfjs');
    // prod mode also silences the "install tfjs-node" banner, which would land in CLI output
    pure.enableProdMode();
    await pure.setBackend('cpu');
    await pure.ready();
    return { tf: pure, backend: 'tfjs' };
  })();
  return loaded;
}
