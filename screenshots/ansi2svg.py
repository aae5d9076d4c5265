#!/usr/bin/env python3
# How screenshots/demo.png is made from the real demo: `flightdeck demo --seed 1` in a
# 120x40 tmux (TERM=xterm-256color), the checkout canary selected, then
#   tmux capture-pane -e -p > demo.ansi; python3 ansi2svg.py demo.ansi demo.svg
#   rsvg-convert demo.svg -o demo.png     (Debian: librsvg2-bin)
import re, sys, html
text = open(sys.argv[1], encoding='utf-8').read().split('\n')[:40]
W, H, CW, LH, FS = 120, 40, 8.4, 17, 14
def c256(n):
    base = ['#000000','#cd3131','#0dbc79','#e5e510','#2472c8','#bc3fbc','#11a8cd','#e5e5e5',
            '#666666','#f14c4c','#23d18b','#f5f543','#3b8eea','#d670d6','#29b8db','#ffffff']
    if n < 16: return base[n]
    if n < 232:
        n -= 16; r, g, b = n // 36, (n // 6) % 6, n % 6
        v = lambda x: 0 if x == 0 else 55 + x * 40
        return '#%02x%02x%02x' % (v(r), v(g), v(b))
    g = 8 + (n - 232) * 10
    return '#%02x%02x%02x' % (g, g, g)
FG, BG = '#d4d4d4', '#1e1e1e'
out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">' % (W*CW+16, H*LH+16),
       '<rect width="100%%" height="100%%" fill="%s"/>' % BG]
for y, line in enumerate(text):
    fg, bg, bold, rev = None, None, False, False
    x = 0
    for part in re.split(r'(\x1b\[[0-9;]*m)', line):
        m = re.match(r'\x1b\[([0-9;]*)m', part)
        if m:
            codes = [int(c) if c else 0 for c in m.group(1).split(';')]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0: fg, bg, bold, rev = None, None, False, False
                elif c == 1: bold = True
                elif c == 22: bold = False
                elif c == 7: rev = True
                elif c == 27: rev = False
                elif 30 <= c <= 37: fg = c256(c - 30)
                elif 90 <= c <= 97: fg = c256(c - 90 + 8)
                elif 40 <= c <= 47: bg = c256(c - 40)
                elif 100 <= c <= 107: bg = c256(c - 100 + 8)
                elif c == 39: fg = None
                elif c == 49: bg = None
                elif c in (38, 48) and i + 1 < len(codes):
                    if codes[i+1] == 5: col = c256(codes[i+2]); i += 2
                    else: col = '#%02x%02x%02x' % tuple(codes[i+2:i+5]); i += 4
                    if c == 38: fg = col
                    else: bg = col
                i += 1
            continue
        if not part: continue
        f, b = (fg or FG), bg
        if rev: f, b = (bg or BG), (fg or FG)
        n = len(part)
        px, py = 8 + x * CW, 8 + y * LH
        if b:
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' % (px, py, n*CW, LH, b))
        if part.strip():
            out.append('<text x="%.1f" y="%d" fill="%s" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="%d"%s textLength="%.1f" xml:space="preserve">%s</text>'
                       % (px, py + LH - 4, f, FS, ' font-weight="bold"' if bold else '', n*CW, html.escape(part)))
        x += n
out.append('</svg>')
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(out))
