// A bundled function that outlasts its timeout: by sleeping, or by spinning without end.
export const handler = async (event) => {
  if (event.spin) for (;;);
  if (event.sleep) await new Promise((resolve) => setTimeout(resolve, event.sleep));
  return { done: true, threadId: (await import('node:worker_threads')).threadId };
};
