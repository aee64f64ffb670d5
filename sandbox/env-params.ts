/** What an `env` step asks the sandbox for: the environment's type, interpreter and folder (apps/<id>/env). */
export interface EnvParams {
  type: 'python' | 'node' | 'none';
  python?: string;
  manager: 'auto' | 'uv' | 'venv';
  /** apps/<id>/env */
  dir: string;
}
