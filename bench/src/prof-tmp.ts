import { w3Neurone } from './w3';
const r = await w3Neurone(Number(process.argv[2] ?? 1));
console.log(r, 'peak RSS MB', process.resourceUsage().maxRSS / 1024);
