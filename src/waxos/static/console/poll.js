// poll.js: a hook that reads an API path now and every `everyMs` while the page is open.

import { useEffect, useState } from "/static/vendor/htm-preact-standalone.module.js";
import { api } from "./session.js";

/**
 * {data, error, at, refresh}: the latest answer of GET `path`, read again every `everyMs`, when `path`
 * changes, and at once when `refresh()` is called.
 */
export function usePolled(path, everyMs) {
  const [state, setState] = useState({ data: null, error: null, at: null });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let stopped = false;
    let timer = 0;
    const controller = new AbortController();
    const read = async () => {
      try {
        const data = await api(path, { signal: controller.signal });
        if (!stopped) setState({ data, error: null, at: new Date() });
      } catch (error) {
        if (!stopped && error.name !== "AbortError") setState((s) => ({ ...s, error }));
        // A refusal will not change by asking again.
        if (error.status === 403 || error.status === 404) return;
      }
      if (!stopped) timer = setTimeout(read, everyMs);
    };
    read();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    };
  }, [path, everyMs, nonce]);
  return { ...state, refresh: () => setNonce((n) => n + 1) };
}
