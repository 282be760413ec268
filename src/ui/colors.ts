/** Chart colours (SVG attributes cannot read CSS variables reliably); keep in step with theme.css. */
export const C = {
  call: '#3fb950',
  put: '#ff6b5e',
  net: '#f2cc60',
  spot: '#58a6ff',
  zero: '#d2a8ff',
  buy: '#3fb950',
  sell: '#ff6b5e',
  depth: '#56606d',
  grid: '#1e2732',
  axis: '#9aa7b4',
  axisLine: '#3a4552',
  callWall: '#7ee787',
  putWall: '#ffa198',
  /** A past minute shown instead of the present (the scrubber). */
  past: '#ff9e3d',
  /** The classic model's figure drawn beside the flow model's (the ghost). */
  ghost: '#c8d1db',
} as const;
