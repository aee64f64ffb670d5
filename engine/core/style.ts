/** Terminal emphasis, only when a human is looking (a TTY and no NO_COLOR). */
const enabled = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;
const wrap = (code: string) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);

export const red = wrap('31');
export const green = wrap('32');
export const yellow = wrap('33');
export const dim = wrap('2');
export const bold = wrap('1');
