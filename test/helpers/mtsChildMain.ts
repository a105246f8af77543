/**
 * An MTS emulator in a process of its own (see mtsProcess.ts): its arrival times are not
 * delayed by whatever else the test process is doing.
 */
import { startMtsEmulator } from '../../src/emulators/mts/index.js';

const emu = await startMtsEmulator(JSON.parse(process.env.MTS_EMULATOR_OPTIONS ?? '{}'));
process.send?.({
  type: 'ready',
  url: emu.url,
  clientId: emu.clientId,
  login: emu.login,
  password: emu.password,
});
process.on('message', (m: { type: string }) => {
  if (m.type === 'records')
    process.send?.({ type: 'records', requests: emu.requests, sent: emu.sent });
  if (m.type === 'close') void emu.close().then(() => process.exit(0));
});
process.on('disconnect', () => void emu.close().then(() => process.exit(0)));
