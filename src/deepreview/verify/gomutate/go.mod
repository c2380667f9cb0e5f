module gomutate

go 1.18
