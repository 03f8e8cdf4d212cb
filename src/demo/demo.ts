/** The demo store `npm start` and `kept demo` load unless told otherwise. */
export const demoDefaults = { customers: 2000, seed: 1 } as const;

/** Yesterday's last second (UTC): nothing in the future, and the same store all day. */
export const yesterday = () => new Date(Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) - 1000);
