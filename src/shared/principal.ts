// Who calls the API, as every request carries it (shared/http.ts AppEnv); auth/ makes principals and checks their roles.

export const roles = ['admin', 'marketer', 'agent', 'analyst'] as const;
export type Role = (typeof roles)[number];

/** Who is calling: a signed-in person or an API key, with its role. */
export type Principal =
  | { kind: 'user'; id: number; email: string; role: Role }
  | { kind: 'key'; id: number; name: string; role: Role; scopes?: string[] | null };
