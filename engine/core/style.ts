import { styleText } from 'node:util';
import { envSetting } from './env-settings.js';

/** Terminal emphasis, only when a human is looking (a TTY and no NO_COLOR). Node 20's styleText does not check either. */
const enabled = process.stdout.isTTY === true && envSetting('NO_COLOR') === undefined;
type Format = Parameters<typeof styleText>[0];
const wrap = (format: Format) => (text: string) => (enabled ? styleText(format, text) : text);

export const red = wrap('red');
export const green = wrap('green');
export const yellow = wrap('yellow');
export const dim = wrap('dim');
export const bold = wrap('bold');
