import { useWasmGemm } from '../src/gemm';

/** `run()` with the WebAssembly kernels switched off (the JavaScript loops), then switched back. */
export function withoutWasm<T>(run: () => T): T {
  const was = useWasmGemm(false);
  try {
    return run();
  } finally {
    useWasmGemm(was);
  }
}
