/** Deduplicating in-flight requests: whether a new request may wait for a generation that is already running. */
import type { CompletionSite } from './completion-mode.js';
import type { Run } from './completion-types.js';

/**
 * The text typed since `run` started, when a request at `site` with `variant` may join it (same settings and suffix,
 * at most `maxTypedAhead` characters typed ahead, still running, and its output so far agrees with what was typed);
 * undefined when it may not.
 */
export function joinableTypedText(
  run: Run,
  site: CompletionSite,
  variant: string,
  maxTypedAhead: number,
): string | undefined {
  const typed = site.prefix.length - run.prefix.length;
  if (
    run.variant !== variant ||
    run.suffix !== site.suffix ||
    typed < 0 ||
    typed > maxTypedAhead ||
    !site.prefix.startsWith(run.prefix) ||
    run.controller.signal.aborted
  )
    return undefined;
  const typedText = site.prefix.slice(run.prefix.length);
  // Join only a generation that already agrees with the typed text (or the same position asked again).
  if (
    typedText !== '' &&
    (run.partial === '' || (!run.partial.startsWith(typedText) && !typedText.startsWith(run.partial)))
  )
    return undefined;
  return typedText;
}
