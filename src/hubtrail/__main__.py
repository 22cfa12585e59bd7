from hubtrail.cli import main

main()
