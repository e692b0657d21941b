# Made by cotenant report; edit freely and run: gnuplot pareto.gp
if (!exists("outfile")) outfile = 'pareto.png'
set terminal pngcairo size 960,540 noenhanced font 'Sans,10'
set output outfile
set grid ytics lc rgb '#dddddd'
set key outside right top
set title 'Best-effort work against client p99, per configuration (bars: 95% CI of the p99)'
set xlabel 'client p99 (ms)'
set ylabel 'best-effort NP (sum over the other workloads)'
set yrange [0:*]
set offsets graph 0.05, graph 0.15, graph 0.1, 0
set key inside bottom left
set logscale x 2
set format x '%g'
set xrange [2.36856:27.5]
set arrow from first 25, graph 0 to first 25, graph 1 nohead dt 2 lw 2 lc rgb '#aa3333'
set label 'SLO 25 ms' at first 25, graph 0.95 right offset -0.5,0 tc rgb '#aa3333'
plot 'pareto.dat' index 0 using 1:4:2:3 with xerrorbars pt 7 ps 1.2 title 'configuration', '' index 0 using 1:4:5 with labels offset 0,1 font ',8' notitle, '' index 1 using 1:2 with lines lw 2 dt 3 lc rgb '#333333' title 'Pareto frontier'
