# Made by cotenant report; edit freely and run: gnuplot sweep_mps.gp
if (!exists("outfile")) outfile = 'sweep_mps.png'
set terminal pngcairo size 960,540 noenhanced font 'Sans,10'
set output outfile
set grid ytics lc rgb '#dddddd'
set key outside right top
set title 'Sweep of mps: STP and each workload NP per configuration (bars: 95% CI)'
set xlabel 'configuration'
set ylabel 'STP, NP'
set yrange [0:*]
set datafile missing '?'
set xrange [-0.5:3.5]
set xtics rotate by -30
plot 'sweep_mps.dat' using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'STP', 'sweep_mps.dat' using 1:9:10:11 with yerrorlines title 'NP client', 'sweep_mps.dat' using 1:12:13:14 with yerrorlines title 'NP trainer'
