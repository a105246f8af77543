import { onBeforeUnmount, onMounted } from 'vue';

/** Calls `load` when the component mounts and every `everyMs` until it unmounts. */
export function usePolling(load: () => unknown, everyMs: number): void {
  let timer: ReturnType<typeof setInterval> | undefined;
  onMounted(() => {
    void load();
    timer = setInterval(load, everyMs);
  });
  onBeforeUnmount(() => clearInterval(timer));
}
