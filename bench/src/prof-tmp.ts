import { w2Neurone } from './w2';
const r = await w2Neurone(Number(process.argv[2] ?? 1), 1);
console.log(r, 'peak RSS MB', process.resourceUsage().maxRSS / 1024);
