import { ApiProperty } from '@nestjs/swagger';
import { IsNumber, IsString, Length, Max, Min } from 'class-validator';

/** Body of `POST /products`. */
export class CreateProductDto {
  @ApiProperty({ example: 'Trail Runner GTX', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ example: 'Waterproof trail running shoe with a grippy outsole.', maxLength: 10000 })
  @IsString()
  @Length(1, 10000)
  description: string;

  @ApiProperty({ example: 'Footwear', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  category: string;

  @ApiProperty({ example: 129.9, minimum: 0, maximum: 99999999 })
  @IsNumber({ maxDecimalPlaces: 2 })
  @Min(0)
  @Max(99_999_999)
  price: number;
}
